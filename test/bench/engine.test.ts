import { describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/engine.js';
import { MODELS_DIR } from '../face/helpers.js';

describe('bench', () => {
  it('measures end-to-end verification of a 640×480 JPEG', async () => {
    const r = await runBench({ modelsDir: MODELS_DIR, poolSize: 2, seconds: 2 });
    expect(r.image).toMatchObject({ width: 640, height: 480 });
    expect(r.poolSize).toBe(2);
    // Counts, not speed: how fast this machine is belongs to `npm run bench`, not to a test.
    expect(r.verifications.concurrency1).toBeGreaterThan(0);
    expect(r.verifications.concurrency2).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p90);
    expect(r.latencyMs.p90).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.throughput.concurrency1).toBeGreaterThan(0);
    expect(r.throughput.concurrency2).toBeGreaterThan(0);
    for (const stage of ['decode', 'detect', 'landmarks', 'align', 'embed', 'liveness', 'quality']) expect(r.stagesMs[stage]).toBeGreaterThan(0);
    expect(r.peakRssMb).toBeGreaterThan(50);
    expect(Number.isFinite(r.eventLoopDelayP99Ms) && r.eventLoopDelayP99Ms > 0).toBe(true);
  });
});
