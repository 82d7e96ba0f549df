import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptLimiter, type LimitPolicy } from '../../src/verification/attempts.js';
import { memoryKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';

// NIST SP 800-63B-4 defaults: 5 consecutive failures, then ≥ 30 s per attempt; the face factor is disabled at 50.
const NIST: LimitPolicy = { failuresBeforeDelay: 5, delaySeconds: 30, failuresBeforeLockout: 50 };

describe('face attempt limits', () => {
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

  const failTimes = async (n: number, account = 'acct') => {
    for (let i = 0; i < n; i++) await limiter.fail(account, NIST);
  };

  it('allows five consecutive failures without waiting, then makes each further attempt wait 30 s', async () => {
    await failTimes(4);
    expect(await limiter.check('acct', NIST)).toEqual({ allowed: true });
    await failTimes(1);
    expect(await limiter.check('acct', NIST)).toEqual({ allowed: false, retryAfter: 30, locked: false });
    vi.advanceTimersByTime(29_000);
    expect(await limiter.check('acct', NIST)).toMatchObject({ allowed: false, retryAfter: 1 });
    vi.advanceTimersByTime(1_000);
    expect(await limiter.check('acct', NIST)).toEqual({ allowed: true });
    // The sixth failure starts another 30 s wait.
    await failTimes(1);
    expect(await limiter.check('acct', NIST)).toMatchObject({ allowed: false, retryAfter: 30 });
  });

  it('disables the factor at the lockout count, and a success resets the consecutive count', async () => {
    await failTimes(48);
    expect(await limiter.fail('acct', NIST)).toEqual({ failures: 49, locked: false });
    expect(await limiter.fail('acct', NIST)).toEqual({ failures: 50, locked: true });
    expect(await limiter.check('acct', NIST)).toEqual({ allowed: false, retryAfter: 0, locked: true });

    await failTimes(4, 'other');
    await limiter.reset('other');
    await failTimes(4, 'other');
    expect(await limiter.check('other', NIST)).toEqual({ allowed: true });
  });

  it('keeps accounts apart, unknown identifiers included', async () => {
    await failTimes(5, 'unknown:nobody@example.com');
    expect(await limiter.check('unknown:nobody@example.com', NIST)).toMatchObject({ allowed: false });
    expect(await limiter.check('acct', NIST)).toEqual({ allowed: true });
  });
});
