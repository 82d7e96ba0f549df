import { describe, expect, it } from 'vitest';
import { runFaceBench } from '../../src/bench/face.js';
import { MODELS_DIR } from '../face/helpers.js';

describe('face engine benchmark', () => {
  it('times verifications of the shipped 640×480 sample, one and two in flight', async () => {
    const r = await runFaceBench({ modelsDir: MODELS_DIR, poolSize: 2, seconds: 2 });
    expect(r.image).toMatchObject({ width: 640, height: 480 });
    expect(r.image.path).toContain('bench/sample/deepface-img2.jpg');
    expect(r.poolSize).toBe(2);
    expect(r.verifications.concurrency1).toBeGreaterThan(0);
    expect(r.verifications.concurrency2).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p90);
    expect(r.latencyMs.p90).toBeLessThanOrEqual(r.latencyMs.p99);
    // Throughput is the count over the phase's duration (each phase is half the run).
    expect(r.throughput.concurrency1).toBeCloseTo(r.verifications.concurrency1 / (r.seconds / 2), -1);
    // Every stage of a verification ran, and nothing a verification does not need.
    for (const stage of ['decode', 'detect', 'landmarks', 'align', 'embed', 'liveness', 'quality']) expect(r.stagesMs[stage]).toBeGreaterThan(0);
    expect(r.peakRssMb).toBeGreaterThan(50);
    expect(r.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(0);
  });
});
