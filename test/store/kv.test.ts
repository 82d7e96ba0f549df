import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { hasRedis, REDIS_URL, requireService } from '../helpers/env.js';

function contract(name: string, make: () => KeyValueStore) {
  describe(`${name} key-value store`, () => {
    const kv = make();
    const p = `t${Math.random().toString(36).slice(2)}:`;
    afterAll(() => kv.close());

    it('takes single-use values once', async () => {
      await kv.set(`${p}token`, 'v', 60);
      expect(await kv.take(`${p}token`)).toBe('v');
      expect(await kv.take(`${p}token`)).toBeNull();
      expect(await kv.setIfAbsent(`${p}once`, '1', 60)).toBe(true);
      expect(await kv.setIfAbsent(`${p}once`, '2', 60)).toBe(false);
    });

    it('counts with an expiry set at creation', async () => {
      expect(await kv.incr(`${p}c`, 60)).toBe(1);
      expect(await kv.incr(`${p}c`, 60)).toBe(2);
      expect(await kv.ttl(`${p}c`)).toBeGreaterThan(50);
      await kv.set(`${p}short`, 'x', 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await kv.get(`${p}short`)).toBeNull();
    });

    it('reserves attempt counters atomically: parallel reservations never overtake the count', async () => {
      const rule = { delayAfter: 3, delayMs: 30_000, maxDelayMs: 60_000, lockAfter: 5, lockMs: 3_600_000, ttlMs: 60_000 };
      const key = `${p}attempts`;
      const results = await Promise.all(Array.from({ length: 50 }, () => kv.reserveAttempt(key, 'unknown', rule)));
      const allowed = results.filter((r) => r.allowed);
      expect(allowed.map((r) => r.count).sort()).toEqual([1, 2, 3]);
      const third = allowed.find((r) => r.count === 3)!;
      expect(third.allowed && third.until).toBeGreaterThan(Date.now() + 29_000);
      expect((await kv.attemptCounters(key)).unknown).toMatchObject({ count: 3 });
      // Giving back the attempt that set the wait lifts it; another origin of the same hash is its own counter.
      await kv.releaseAttempt(key, 'unknown', third.allowed ? third.until : 0);
      expect(await kv.attemptCounters(key)).toEqual({ unknown: { count: 2, until: 0 } });
      expect(await kv.reserveAttempt(key, 'dev:phone', rule)).toMatchObject({ allowed: true, count: 1 });
      await kv.resetAttempt(key, 'unknown');
      expect(Object.keys(await kv.attemptCounters(key))).toEqual(['dev:phone']);
    });

    it('takes a value only while it is the current one', async () => {
      await kv.set(`${p}live`, 'token-2', 60);
      expect(await kv.takeIfEquals(`${p}live`, 'token-1')).toBe(false);
      expect(await kv.takeIfEquals(`${p}live`, 'token-2')).toBe(true);
      expect(await kv.takeIfEquals(`${p}live`, 'token-2')).toBe(false);
    });
  });
}

contract('memory', memoryKeyValueStore);
if (requireService('Redis', hasRedis)) contract('redis', () => redisKeyValueStore(connectRedis(REDIS_URL)));
