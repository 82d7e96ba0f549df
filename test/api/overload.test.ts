import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, fixture, form, startHarness, type Harness } from './harness.js';

/** The Face Match API past capacity: what is not accepted is shed at once with 503 and Retry-After. */
describe('Face Match API overload', () => {
  let h: Harness;

  beforeAll(async () => {
    // One worker and the shortest allowed wait: a match queues two analyses, so a few backends are past capacity.
    h = await startHarness({ FACE_WORKERS: '1', FACE_MAX_WAIT_MS: '100' });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('sheds requests past capacity with 503, OVERLOADED and Retry-After, and answers the rest', async () => {
    const tokens = await Promise.all(['busy-a', 'busy-b', 'busy-c'].map((id) => h.addClient(id)));
    const body = () => form({ selfie: fixture('person-a-1.jpg'), reference: fixture('person-a-2.jpg') });
    // Warm: the engine's service-time estimate comes from real analyses.
    expect((await call(`${h.url}/api/v1/face/match`, { method: 'POST', token: tokens[0], body: body() })).status).toBe(200);
    const replies = await Promise.all(tokens.flatMap((token) => Array.from({ length: 4 }, () => call(`${h.url}/api/v1/face/match`, { method: 'POST', token, body: body() }))));
    const shed = replies.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      expect(r.body.errorCodes).toEqual(['OVERLOADED']);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(replies.every((r) => r.status === 200 || r.status === 503)).toBe(true);
  }, 120_000);
});
