import { describe, expect, it } from 'vitest';
import { resolveQuality } from '../../src/face/config.js';
import { createFaceEngine, FaceError, verifyModels } from '../../src/face/index.js';
import { FacePool, type PoolOptions } from '../../src/face/pool.js';
import { fixture, MODELS_DIR } from './helpers.js';

async function poolOptions(over: Partial<PoolOptions>): Promise<PoolOptions> {
  const info = await verifyModels(MODELS_DIR);
  return {
    size: 1,
    maxQueue: 4,
    taskTimeoutMs: 30_000,
    init: { files: info.files, config: { limits: { maxBytes: 15e6, maxPixels: 40e6 }, quality: resolveQuality(undefined), modelId: info.modelId } },
    ...over,
  };
}

const image = () => new Uint8Array(fixture('deepface-img2.jpg'));

describe('worker pool', () => {
  it('keeps inference off the event loop while 8 analyses run', async () => {
    const engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 2, maxQueue: 8 });
    try {
      expect(engine.ready).toBe(true);
      await engine.analyze(fixture('deepface-img2.jpg'), 'verify');
      const before = performance.eventLoopUtilization();
      const results = await Promise.all(Array.from({ length: 8 }, () => engine.analyze(fixture('deepface-img2.jpg'), 'verify')));
      const { utilization } = performance.eventLoopUtilization(before);
      expect(results.every((r) => r.quality.ok && r.liveness?.live)).toBe(true);
      // The main thread only posts images and receives results: inference on it would keep it busy nearly all along.
      expect(utilization).toBeLessThan(0.5);
    } finally {
      await engine.close();
    }
    expect(engine.ready).toBe(false);
  });

  it('answers OVERLOADED (503 + Retry-After) when the queue is full', async () => {
    const engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1, maxQueue: 1 });
    try {
      const settled = await Promise.allSettled(Array.from({ length: 5 }, () => engine.analyze(fixture('deepface-img2.jpg'), 'verify')));
      const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as FaceError);
      expect(settled.filter((s) => s.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      for (const err of rejected) {
        expect(err).toBeInstanceOf(FaceError);
        expect(err).toMatchObject({ code: 'OVERLOADED', status: 503, retryAfter: 1 });
      }
      expect(engine.stats()).toEqual({ poolSize: 1, queued: 0, running: 0 });
    } finally {
      await engine.close();
    }
  });

  it('fails the callers of a worker that dies, then replaces it', async () => {
    const pool = await FacePool.start(await poolOptions({ size: 1 }));
    try {
      const [worker] = pool.threads;
      const pending = pool.run(image(), 'verify');
      const queued = pool.run(image(), 'verify');
      await worker.terminate();
      await expect(pending).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', status: 503 });
      expect(pool.ready).toBe(false);
      // The queued task runs on the replacement, once its models are loaded.
      await expect(queued).resolves.toMatchObject({ quality: { ok: true } });
      expect(pool.ready).toBe(true);
      expect(pool.threads[0].threadId).not.toBe(worker.threadId);
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker whose task outlives the time limit', async () => {
    const pool = await FacePool.start(await poolOptions({ size: 1, taskTimeoutMs: 1 }));
    try {
      await expect(pool.run(image(), 'verify')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
      await expect.poll(() => pool.ready, { timeout: 20_000 }).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('refuses work after close', async () => {
    const pool = await FacePool.start(await poolOptions({ size: 1 }));
    await pool.close();
    expect(pool.ready).toBe(false);
    await expect(pool.run(image(), 'verify')).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
  });
});
