import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { fingerprint, type Fingerprint } from '../../src/verification/fingerprint.js';
import { REPLAY_WINDOW_SECONDS, ReplayGuard } from '../../src/verification/replay.js';
import { cameraFrames } from '../helpers/camera.js';
import { hasRedis, REDIS_URL, requireService } from '../helpers/env.js';
import { ROOT } from '../helpers/server.js';

const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);
const HOUR = 3600;

/**
 * Replay fingerprints live in the key-value store. The account's key expires a day after its last sign-in, but an
 * account signing in every day keeps the key alive: each fingerprint must still be forgotten a day after its frame.
 */
function fingerprintRetention(name: string, open: () => KeyValueStore) {
  describe(`replay fingerprints in the ${name} store`, () => {
    let kv: KeyValueStore;
    let a: Fingerprint;
    let b: Fingerprint;

    beforeAll(async () => {
      kv = open();
      a = await fingerprint((await cameraFrames(face('deepface-img2.jpg'), 1, { seed: 5 }))[0]);
      b = await fingerprint((await cameraFrames(face('deepface-img1.jpg'), 1, { seed: 6 }))[0]);
    });

    afterAll(() => kv.close());

    it('are forgotten a day after their frame, even while later sign-ins keep the key alive', async () => {
      const account = `retention-${randomUUID()}`;
      const t0 = Math.floor(Date.now() / 1000);
      let now = t0;
      const guard = new ReplayGuard(kv, () => now);
      try {
        expect(await guard.screen(account, 'sign-in-1', [a])).toBe(false);
        now = t0 + 23 * HOUR;
        expect(await guard.screen(account, 'sign-in-2', [b])).toBe(false);
        // A day and a second after the first frame: forgotten, though the second sign-in rewrote the key an hour ago.
        now = t0 + 24 * HOUR + 1;
        expect(await guard.screen(account, 'sign-in-3', [a])).toBe(false);
        // The second frame is an hour old: still a replay.
        expect(await guard.screen(account, 'sign-in-4', [b])).toBe(true);

        const stored = JSON.parse((await kv.get(`replay:${account}`))!) as { s: string; t: number }[];
        expect(stored.every((p) => p.t > now - REPLAY_WINDOW_SECONDS)).toBe(true);
        expect(stored.filter((p) => p.s === a.sha256.slice(0, 32)).map((p) => p.t)).toEqual([now]);
        // And the key itself expires: a day after the last sign-in at most.
        const ttl = await kv.ttl(`replay:${account}`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(REPLAY_WINDOW_SECONDS);
      } finally {
        await kv.del(`replay:${account}`);
      }
    });
  });
}

fingerprintRetention('memory', () => memoryKeyValueStore());
if (requireService('Redis', hasRedis)) fingerprintRetention('Redis', () => redisKeyValueStore(connectRedis(`${REDIS_URL}/9`)));
