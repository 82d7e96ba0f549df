import { describe, expect, it } from 'vitest';
import { runChallengeBench } from '../../src/bench/challenge.js';
import { MODELS_DIR } from '../face/helpers.js';

describe('challenge liveness benchmark', () => {
  it('replays the shipped recording as completed challenges, one and two in flight', async () => {
    const r = await runChallengeBench({ modelsDir: MODELS_DIR, poolSize: 2, iterations: 2 });
    expect(r.recording).toEqual({ movements: 'up,right', fps: 6, frames: 30, frameSize: '360×360' });
    // The live page's rate: two of every three recorded frames.
    expect(r.replayFps).toBe(4);
    const all = await runChallengeBench({ modelsDir: MODELS_DIR, poolSize: 2, iterations: 1, fps: 6 });
    expect(r.framesAnalysed).toBeLessThan(all.framesAnalysed);
    expect(r.challenges).toEqual({ concurrency1: 2, concurrency2: 2 });
    // Every frame up to the decision is tracked; one 'verify' per step and one for the final frontal frame.
    expect(r.verifyFrames).toBe(3);
    expect(r.framesAnalysed).toBeGreaterThan(r.verifyFrames);
    expect(all.framesAnalysed).toBeLessThanOrEqual(r.recording.frames);
    expect(r.cpuMs.p50).toBeGreaterThan(0);
    expect(r.cpuMs.p50).toBeLessThanOrEqual(r.cpuMs.p90);
    expect(r.challengesPerSecond2).toBeGreaterThan(0);
  });
});
