import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaceError } from '../../src/face/index.js';
import { fixture, startHarness, type Harness } from '../api/harness.js';

/** Sign-in frames are one request to the engine: admitted together within its wait, or refused before any runs. */
describe('sign-in frame admission', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ FACE_WORKERS: '1' });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('admits the frames of one capture together in the anonymous lane, or analyses none of them', async () => {
    const { engine, verification } = h.services;
    const frames = ['person-a-1.jpg', 'person-a-2.jpg'].map((name) => new Uint8Array(fixture(name)));
    const admit = vi.spyOn(engine, 'admit');
    const analyze = vi.spyOn(engine, 'analyze');
    try {
      await expect(verification.analyze(frames)).resolves.toHaveLength(2);
      expect(admit).toHaveBeenCalledWith(['verify', 'verify'], { lane: 'anonymous' });
      admit.mockImplementationOnce(() => {
        throw new FaceError('OVERLOADED', 'busy', { retryAfter: 1 });
      });
      analyze.mockClear();
      await expect(verification.analyze(frames)).rejects.toMatchObject({ code: 'OVERLOADED', retryAfter: 1 });
      expect(analyze).not.toHaveBeenCalled();
      expect(engine.stats()).toMatchObject({ running: 0, queued: 0 });
    } finally {
      admit.mockRestore();
      analyze.mockRestore();
    }
  });
});
