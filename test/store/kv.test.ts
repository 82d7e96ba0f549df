import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { AttemptLimiter } from '../../src/verification/attempts.js';
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

    it('throttles after consecutive failures and locks out at the limit', async () => {
      const limiter = new AttemptLimiter(kv, `${p}face`);
      const policy = { failuresBeforeDelay: 3, delaySeconds: 30, failuresBeforeLockout: 5 };
      for (let i = 0; i < 2; i++) await limiter.fail('acct', policy);
      expect(await limiter.check('acct', policy)).toEqual({ allowed: true });
      await limiter.fail('acct', policy);
      const delayed = await limiter.check('acct', policy);
      expect(delayed).toMatchObject({ allowed: false, locked: false });
      expect((delayed as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(29);
      await limiter.fail('acct', policy);
      expect((await limiter.fail('acct', policy)).locked).toBe(true);
      expect(await limiter.check('acct', policy)).toMatchObject({ allowed: false, locked: true });
      await limiter.reset('acct');
      expect(await limiter.check('acct', policy)).toEqual({ allowed: true });
    });
  });
}

contract('memory', memoryKeyValueStore);
if (requireService('Redis', hasRedis)) contract('redis', () => redisKeyValueStore(connectRedis(REDIS_URL)));
