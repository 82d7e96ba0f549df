import { waitAfter, type AttemptRule, type KeyValueStore } from '../store/kv.js';

/** The factors whose failed attempts are counted per account. */
export type CountedFactor = 'pwd' | 'face' | 'passkey';

export interface LimitPolicy {
  failuresBeforeDelay: number;
  delaySeconds: number;
  failuresBeforeLockout: number;
  /** How long a counter is kept after its last attempt; default a day. */
  windowSeconds?: number;
}

/**
 * Where an attempt comes from: a device the account signed in with before (its device cookie), any other device, or
 * a Face Match API client matching against the account.
 */
export type Origin = { kind: 'known'; device: string } | { kind: 'unknown' } | { kind: 'api'; clientId: string };

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfter: number; locked: boolean };

/** Unknown devices: the delay doubles per failure up to this, and the lockout lasts this long (never for good). */
export const MAX_DELAY_SECONDS = 15 * 60;
export const UNKNOWN_DEVICE_LOCK_SECONDS = 3600;
/** Counters are forgotten a day after their last attempt. */
const COUNTER_TTL_MS = 86_400_000;
/** A known device at the lockout count is stopped until an administrator unlocks (face) or the counter lapses. */
const KNOWN_DEVICE_LOCK_MS = COUNTER_TTL_MS;

const fieldOf = (origin: Origin) => (origin.kind === 'known' ? `dev:${origin.device}` : origin.kind === 'api' ? `api:${origin.clientId}` : 'unknown');

function ruleFor(policy: LimitPolicy, origin: Origin): AttemptRule {
  return {
    delayAfter: policy.failuresBeforeDelay,
    delayMs: policy.delaySeconds * 1000,
    // A known device keeps the flat NIST delay; unknown devices and API clients wait longer with each failure.
    maxDelayMs: origin.kind === 'known' ? policy.delaySeconds * 1000 : Math.max(MAX_DELAY_SECONDS, policy.delaySeconds) * 1000,
    lockAfter: policy.failuresBeforeLockout,
    lockMs: origin.kind === 'known' ? KNOWN_DEVICE_LOCK_MS : UNKNOWN_DEVICE_LOCK_SECONDS * 1000,
    ttlMs: policy.windowSeconds ? policy.windowSeconds * 1000 : COUNTER_TTL_MS,
  };
}

/** A counted attempt: reserved before the check, settled by its outcome. */
export interface Reservation {
  /** Failures including this attempt. */
  count: number;
  /** Until when the reservation holds off other attempts (epoch ms, 0: it does not). */
  until: number;
  /** How long the next attempt waits if this one fails, counted from the failure. */
  waitMs: number;
  locked: boolean;
}

/**
 * NIST SP 800-63B-4 throttling of one factor per account, kept per origin (OWASP device cookies): failures from an
 * unknown device delay and lock unknown devices only, so nobody who merely knows an identifier can lock the person
 * out; the person's own devices keep their own count. Each attempt is reserved before it is checked, atomically in
 * the shared store, so a burst of parallel attempts cannot overtake the count.
 */
export class AttemptLimiter {
  constructor(
    private readonly kv: KeyValueStore,
    /** The counter family: a factor, or "ip" for client addresses. */
    private readonly family: string,
  ) {}

  private key(account: string) {
    return `attempts:${this.family}:${account}`;
  }

  /** Counts the attempt as failed in advance, or says how long it must wait first. */
  async reserve(account: string, origin: Origin, policy: LimitPolicy): Promise<Reservation | { refused: LimitVerdict & { allowed: false } }> {
    const rule = ruleFor(policy, origin);
    const r = await this.kv.reserveAttempt(this.key(account), fieldOf(origin), rule);
    if (!r.allowed) return { refused: { allowed: false, retryAfter: Math.ceil(r.retryAfterMs / 1000), locked: r.count >= rule.lockAfter } };
    return { count: r.count, until: r.until, waitMs: waitAfter(r.count, rule), locked: r.count >= rule.lockAfter };
  }

  /** It failed: its wait starts now (checking took a while since the reservation). Returns when the next may start. */
  async fail(account: string, origin: Origin, reservation: Reservation): Promise<number> {
    if (reservation.waitMs === 0) return 0;
    const until = Date.now() + reservation.waitMs;
    await this.kv.holdAttempt(this.key(account), fieldOf(origin), until);
    return until;
  }

  /** The attempt did not count (nothing was compared): give it back. */
  async release(account: string, origin: Origin, reservation: Reservation): Promise<void> {
    await this.kv.releaseAttempt(this.key(account), fieldOf(origin), reservation.until);
  }

  /** It verified: this origin starts afresh (other origins keep their counts, an attack elsewhere goes on being slowed). */
  async succeed(account: string, origin: Origin): Promise<void> {
    await this.kv.resetAttempt(this.key(account), fieldOf(origin));
  }

  /** Whether an attempt from `origin` may start now, without counting one. */
  async check(account: string, origin: Origin, policy: LimitPolicy): Promise<LimitVerdict> {
    const counter = (await this.kv.attemptCounters(this.key(account)))[fieldOf(origin)];
    const wait = counter ? counter.until - Date.now() : 0;
    if (wait <= 0) return { allowed: true };
    return { allowed: false, retryAfter: Math.ceil(wait / 1000), locked: counter.count >= policy.failuresBeforeLockout };
  }

  /** Every origin's counter, for the console: failures and until when it waits. */
  async status(account: string): Promise<{ origin: 'unknown devices' | 'known device' | 'Face Match API'; failures: number; waitsUntil: Date | null }[]> {
    const counters = await this.kv.attemptCounters(this.key(account));
    return Object.entries(counters).map(([field, c]) => ({
      origin: field === 'unknown' ? 'unknown devices' : field.startsWith('api:') ? 'Face Match API' : 'known device',
      failures: c.count,
      waitsUntil: c.until > Date.now() ? new Date(c.until) : null,
    }));
  }

  /** Failures of all origins together. */
  async failures(account: string): Promise<number> {
    return Object.values(await this.kv.attemptCounters(this.key(account))).reduce((n, c) => n + c.count, 0);
  }

  /** Forgets every origin's counter (an administrator clears the throttling, or the account is deleted). */
  async clear(account: string): Promise<void> {
    await this.kv.del(this.key(account));
  }
}
