import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptLimiter, MAX_DELAY_SECONDS, UNKNOWN_DEVICE_LOCK_SECONDS, type LimitPolicy, type Origin } from '../../src/verification/attempts.js';
import { memoryKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';

// NIST SP 800-63B-4 defaults: 5 consecutive failures, then ≥ 30 s per attempt; lockout at 50.
const NIST: LimitPolicy = { failuresBeforeDelay: 5, delaySeconds: 30, failuresBeforeLockout: 50 };
const KNOWN: Origin = { kind: 'known', device: 'phone' };
const UNKNOWN: Origin = { kind: 'unknown' };

describe('attempt limits', () => {
  let kv: KeyValueStore;
  let limiter: AttemptLimiter;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    kv = memoryKeyValueStore();
    limiter = new AttemptLimiter(kv, 'face');
  });

  afterEach(async () => {
    await kv.close();
    vi.useRealTimers();
  });

  /** `n` attempts that failed, each after the previous one's wait. */
  const failTimes = async (n: number, origin: Origin, account = 'acct') => {
    for (let i = 0; i < n; i++) {
      const verdict = await limiter.check(account, origin, NIST);
      if (!verdict.allowed) vi.advanceTimersByTime(verdict.retryAfter * 1000);
      const r = await limiter.reserve(account, origin, NIST);
      if ('refused' in r) throw new Error('refused after its wait');
    }
  };

  it('from a known device: five failures without waiting, then each further attempt waits 30 s', async () => {
    await failTimes(4, KNOWN);
    expect(await limiter.check('acct', KNOWN, NIST)).toEqual({ allowed: true });
    await failTimes(1, KNOWN);
    expect(await limiter.check('acct', KNOWN, NIST)).toEqual({ allowed: false, retryAfter: 30, locked: false });
    vi.advanceTimersByTime(29_000);
    expect(await limiter.check('acct', KNOWN, NIST)).toMatchObject({ allowed: false, retryAfter: 1 });
    vi.advanceTimersByTime(1_000);
    expect(await limiter.check('acct', KNOWN, NIST)).toEqual({ allowed: true });
    await failTimes(1, KNOWN);
    expect(await limiter.check('acct', KNOWN, NIST)).toMatchObject({ allowed: false, retryAfter: 30 });
  });

  it('from unknown devices: the wait doubles per failure up to 15 minutes, and the lockout lasts an hour, not for good', async () => {
    await failTimes(5, UNKNOWN);
    const waits = [];
    for (let i = 0; i < 7; i++) {
      waits.push((await limiter.check('acct', UNKNOWN, NIST)) as { retryAfter: number });
      await failTimes(1, UNKNOWN);
    }
    expect(waits.map((w) => w.retryAfter)).toEqual([30, 60, 120, 240, 480, MAX_DELAY_SECONDS, MAX_DELAY_SECONDS]);
    await failTimes(NIST.failuresBeforeLockout - 12, UNKNOWN);
    expect(await limiter.check('acct', UNKNOWN, NIST)).toEqual({ allowed: false, retryAfter: UNKNOWN_DEVICE_LOCK_SECONDS, locked: true });
    // The person's own device is not affected.
    expect(await limiter.check('acct', KNOWN, NIST)).toEqual({ allowed: true });
    vi.advanceTimersByTime(UNKNOWN_DEVICE_LOCK_SECONDS * 1000);
    expect(await limiter.check('acct', UNKNOWN, NIST)).toEqual({ allowed: true });
  });

  it('starts a failed attempt’s wait when it failed, not when it was reserved', async () => {
    await failTimes(4, KNOWN);
    const fifth = await limiter.reserve('acct', KNOWN, NIST);
    if ('refused' in fifth) throw new Error('the fifth attempt should be allowed');
    vi.advanceTimersByTime(5_000); // the check takes a while
    await limiter.fail('acct', KNOWN, fifth);
    expect(await limiter.check('acct', KNOWN, NIST)).toEqual({ allowed: false, retryAfter: 30, locked: false });
  });

  it('reserves before the check: a burst of parallel attempts gets no more than the failures before a delay', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.reserve('acct', UNKNOWN, NIST)));
    expect(results.filter((r) => !('refused' in r))).toHaveLength(NIST.failuresBeforeDelay);
  });

  it('gives back an attempt that did not count, and forgets an origin that verified', async () => {
    await failTimes(4, UNKNOWN);
    const fifth = await limiter.reserve('acct', UNKNOWN, NIST);
    if ('refused' in fifth) throw new Error('the fifth attempt should be allowed');
    expect(await limiter.check('acct', UNKNOWN, NIST)).toMatchObject({ allowed: false });
    await limiter.release('acct', UNKNOWN, fifth);
    expect(await limiter.check('acct', UNKNOWN, NIST)).toEqual({ allowed: true });
    expect(await limiter.failures('acct')).toBe(4);

    await failTimes(3, KNOWN);
    await limiter.succeed('acct', KNOWN);
    expect(await limiter.status('acct')).toEqual([{ origin: 'unknown devices', failures: 4, waitsUntil: null }]);
    await limiter.clear('acct');
    expect(await limiter.failures('acct')).toBe(0);
  });

  it('keeps accounts apart, unknown identifiers included', async () => {
    await failTimes(5, UNKNOWN, 'unknown:nobody@example.com');
    expect(await limiter.check('unknown:nobody@example.com', UNKNOWN, NIST)).toMatchObject({ allowed: false });
    expect(await limiter.check('acct', UNKNOWN, NIST)).toEqual({ allowed: true });
  });
});
