import type { KeyValueStore } from '../store/kv.js';

export interface LimitPolicy {
  failuresBeforeDelay: number;
  delaySeconds: number;
  failuresBeforeLockout: number;
}

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfter: number; locked: boolean };

/**
 * NIST SP 800-63B-4 throttling of one factor for one account: after N consecutive failures each further attempt
 * waits `delaySeconds`; after the lockout count the factor is disabled (the caller records that durably).
 * Counters are consecutive: a success resets them. They live in the shared store for a day.
 */
export class AttemptLimiter {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly factor: string,
  ) {}

  private key(account: string) {
    return `attempts:${this.factor}:${account}`;
  }

  async failures(account: string): Promise<number> {
    return Number((await this.kv.get(this.key(account))) ?? 0);
  }

  async check(account: string, policy: LimitPolicy): Promise<LimitVerdict> {
    const failures = await this.failures(account);
    if (failures >= policy.failuresBeforeLockout) return { allowed: false, retryAfter: 0, locked: true };
    if (failures < policy.failuresBeforeDelay) return { allowed: true };
    const wait = await this.kv.ttl(`${this.key(account)}:wait`);
    return wait > 0 ? { allowed: false, retryAfter: wait, locked: false } : { allowed: true };
  }

  /** Records a failure; returns the consecutive count and whether it reached the lockout. */
  async fail(account: string, policy: LimitPolicy): Promise<{ failures: number; locked: boolean }> {
    const failures = await this.kv.incr(this.key(account), 86_400);
    if (failures >= policy.failuresBeforeDelay) await this.kv.set(`${this.key(account)}:wait`, '1', policy.delaySeconds);
    return { failures, locked: failures >= policy.failuresBeforeLockout };
  }

  async reset(account: string): Promise<void> {
    await this.kv.del(this.key(account));
    await this.kv.del(`${this.key(account)}:wait`);
  }
}
