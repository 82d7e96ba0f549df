import { describe, expect, it } from 'vitest';
import { runChallengeBench } from '../../src/bench/challenge.js';
import { MODELS_DIR } from '../face/helpers.js';

describe('challenge liveness benchmark', () => {
  it('replays the shipped recording as completed challenges, one and two in flight', async () => {
    const r = await runChallengeBench({ modelsDir: MODELS_DIR, poolSize: 2, iterations: 2 });
    expect(r.recording).toEqual({ movements: 'up,right', fps: 6, frames: 30, frameSize: '360×360' });
    // Every recorded frame, the rate nearest the live page's 7.
    expect(r.replayFps).toBe(6);
    expect(r.challenges).toEqual({ concurrency1: 2, concurrency2: 2 });
    // Every frame up to the decision is located; an embedding for the baseline, one per step (a target the pose does
    // not confirm yet costs one more) and the two final frames.
    expect(r.embedded).toBeGreaterThanOrEqual(1 + 2 + 2);
    expect(r.embedded).toBeLessThanOrEqual(1 + 2 + 2 + 3);
    expect(r.framesAnalysed).toBeGreaterThan(r.embedded);
    expect(r.framesAnalysed).toBeLessThanOrEqual(r.recording.frames);
    expect(r.cpuMs.p50).toBeGreaterThan(0);
    expect(r.cpuMs.p50).toBeLessThanOrEqual(r.cpuMs.p90);
    expect(r.challengesPerSecond2).toBeGreaterThan(0);
  });
});
