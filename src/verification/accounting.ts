import type { UserStore } from '../accounts/users.js';
import type { Settings } from '../settings/index.js';
import type { KeyValueStore } from '../store/kv.js';
import { AttemptLimiter, type CountedFactor, type LimitPolicy, type LimitVerdict, type Origin, type Reservation } from './attempts.js';

/**
 * Whose attempts are counted: a known account by its id; an identifier that matches no active account by what was
 * typed, so that unknown accounts are throttled exactly like known ones.
 */
export interface AttemptSubject {
  userId: string | null;
  identifier: string;
}

export interface FailureOutcome {
  failures: number;
  /** The lockout count was reached: for a known device the face factor is now locked durably, otherwise this origin waits an hour. */
  locked: boolean;
  /** The durable lock was set (failures from the account's own device). */
  lockedForGood: boolean;
  /** The next attempt from this origin waits `delaySeconds`. */
  delayed: boolean;
  delaySeconds: number;
}

/** A counted attempt: reserved before the check, settled with what the check found. */
export interface CountedAttempt {
  /** It verified: this origin's failures are forgotten. */
  succeeded(): Promise<void>;
  /** It failed: it stays counted (a known device at the lockout count locks the face factor). */
  failed(): Promise<FailureOutcome>;
  /** Nothing was compared (no usable face, unreadable upload): it does not count. */
  voided(): Promise<void>;
}

/**
 * A reservation as data, for an attempt that spans several requests (a challenge's frames may reach different
 * instances): `resume` turns it back into the CountedAttempt it was.
 */
export interface AttemptTicket {
  factor: CountedFactor;
  subject: AttemptSubject;
  origin: Origin;
  ip: string | null;
  policy: LimitPolicy;
  reserved: Reservation;
  address: Reservation | null;
}

export type AttemptStart = { allowed: true; attempt: CountedAttempt } | ({ allowed: false } & Omit<Extract<LimitVerdict, { allowed: false }>, 'allowed'>);
/** A start whose reservation can also be settled later, from its ticket (an attempt that spans requests). */
export type TicketedStart = { allowed: true; attempt: CountedAttempt; ticket: AttemptTicket } | ({ allowed: false } & Omit<Extract<LimitVerdict, { allowed: false }>, 'allowed'>);

export interface Throttling {
  factor: CountedFactor;
  origin: string;
  failures: number;
  waitsUntil: Date | null;
}

/**
 * Failures per client address (IPv6 per /64) within an hour, whatever the identifier: someone trying many
 * identifiers from one network (fresh counters each) is slowed after 30, doubling to 15 minutes, and stopped for an
 * hour at 300. Loose enough for an office behind one NAT, where people mistype now and then.
 */
export const IP_POLICY: LimitPolicy = { failuresBeforeDelay: 30, delaySeconds: 60, failuresBeforeLockout: 300, windowSeconds: 3600 };

/** The key a subject's counters (and replay memory) live under: the account, or what an unknown sender typed. */
export const subjectKey = (s: AttemptSubject) => s.userId ?? `unknown:${s.identifier}`;

export interface AccountingDeps {
  users: Pick<UserStore, 'lockFace' | 'unlockFace'>;
  settings: { get(): Promise<Settings> };
  kv: KeyValueStore;
}

/**
 * Failed attempts of every factor and surface, per account, origin and client address: reserve before the check,
 * settle with the outcome (attempts.ts has the counters). The CLI uses it without a face engine.
 */
export class AttemptAccounting {
  private readonly limiters: Record<CountedFactor, AttemptLimiter>;
  private readonly byAddress: AttemptLimiter;

  constructor(private readonly deps: AccountingDeps) {
    this.limiters = { pwd: new AttemptLimiter(deps.kv, 'pwd'), face: new AttemptLimiter(deps.kv, 'face'), passkey: new AttemptLimiter(deps.kv, 'passkey') };
    this.byAddress = new AttemptLimiter(deps.kv, 'ip');
  }

  /** The factor's thresholds: each factor is counted separately; passkeys, like passwords, are not biometric. */
  async policy(factor: CountedFactor): Promise<LimitPolicy> {
    const s = await this.deps.settings.get();
    return factor === 'face'
      ? { failuresBeforeDelay: s.faceFailuresBeforeDelay, delaySeconds: s.failureDelaySeconds, failuresBeforeLockout: s.faceFailuresBeforeLockout }
      : { failuresBeforeDelay: s.passwordFailuresBeforeDelay, delaySeconds: s.failureDelaySeconds, failuresBeforeLockout: s.passwordFailuresBeforeLockout };
  }

  /** Whether an attempt from `origin` may start now (NIST SP 800-63B-4 delay and lockout), without counting one. */
  async check(factor: CountedFactor, subject: AttemptSubject, origin: Origin): Promise<LimitVerdict> {
    return this.limiters[factor].check(subjectKey(subject), origin, await this.policy(factor));
  }

  /**
   * Reserves one attempt for `subject` from `origin` (and, for sign-in, from the client's address bucket `ip`)
   * before it is checked. Refused while that origin (or address) waits.
   */
  async begin(factor: CountedFactor, subject: AttemptSubject, origin: Origin, ip: string | null): Promise<TicketedStart> {
    const policy = await this.policy(factor);
    const account = subjectKey(subject);
    const address = ip ? await this.byAddress.reserve(ip, { kind: 'unknown' }, IP_POLICY) : null;
    if (address && 'refused' in address) return { allowed: false, retryAfter: address.refused.retryAfter, locked: false };
    const reserved = await this.limiters[factor].reserve(account, origin, policy);
    if ('refused' in reserved) {
      if (address) await this.byAddress.release(ip!, { kind: 'unknown' }, address);
      return { allowed: false, retryAfter: reserved.refused.retryAfter, locked: reserved.refused.locked };
    }
    const ticket: AttemptTicket = { factor, subject, origin, ip, policy, reserved, address };
    return { allowed: true, attempt: this.resume(ticket), ticket };
  }

  /** The attempt a ticket from `begin` reserved, to settle it in a later request (once: a ticket is one attempt). */
  resume(ticket: AttemptTicket): CountedAttempt {
    const { factor, subject, origin, policy, reserved, address, ip } = ticket;
    const giveBackAddress = () => (address && ip ? this.byAddress.release(ip, { kind: 'unknown' }, address) : Promise.resolve());
    return this.counted(factor, subject, origin, policy, reserved, giveBackAddress);
  }

  /**
   * Reserves an attempt that names no account yet — a passkey sign-in without an email — against the client's
   * address bucket only. Its key, once known, names the account: `attribute` then counts the outcome there too.
   */
  async beginByAddress(ip: string): Promise<AttemptStart> {
    const address = await this.byAddress.reserve(ip, { kind: 'unknown' }, IP_POLICY);
    if ('refused' in address) return { allowed: false, retryAfter: address.refused.retryAfter, locked: false };
    const giveBack = () => this.byAddress.release(ip, { kind: 'unknown' }, address);
    return {
      allowed: true,
      attempt: {
        succeeded: giveBack,
        voided: giveBack,
        failed: async () => ({ failures: address.count, locked: address.locked, lockedForGood: false, delayed: address.waitMs > 0, delaySeconds: Math.ceil(address.waitMs / 1000) }),
      },
    };
  }

  /** Counts the outcome of an attempt against the account it turned out to be for (reserving it may be refused). */
  async attribute(factor: CountedFactor, userId: string, origin: Origin, outcome: 'succeeded' | 'failed'): Promise<AttemptStart> {
    const start = await this.begin(factor, { userId, identifier: '' }, origin, null);
    if (start.allowed) await start.attempt[outcome]();
    return start;
  }

  private counted(factor: CountedFactor, subject: AttemptSubject, origin: Origin, policy: LimitPolicy, reserved: Reservation, giveBackAddress: () => Promise<void>): CountedAttempt {
    const account = subjectKey(subject);
    const limiter = this.limiters[factor];
    return {
      succeeded: async () => {
        await Promise.all([limiter.succeed(account, origin), giveBackAddress()]);
      },
      voided: async () => {
        await Promise.all([limiter.release(account, origin, reserved), giveBackAddress()]);
      },
      failed: async () => {
        // A Face Match API client's failures also slow the account's unknown devices at sign-in.
        if (origin.kind === 'api') await this.limiters.face.reserve(account, { kind: 'unknown' }, policy);
        const lockedForGood = reserved.locked && factor === 'face' && origin.kind === 'known' && subject.userId !== null;
        if (lockedForGood) await this.deps.users.lockFace(subject.userId!);
        await limiter.fail(account, origin, reserved);
        return { failures: reserved.count, locked: reserved.locked, lockedForGood, delayed: reserved.waitMs > 0, delaySeconds: Math.ceil(reserved.waitMs / 1000) };
      },
    };
  }

  /** Why an account is throttled: every counter of every factor, per origin. */
  async throttling(userId: string): Promise<Throttling[]> {
    const factors: CountedFactor[] = ['face', 'pwd', 'passkey'];
    const counters = await Promise.all(factors.map((f) => this.limiters[f].status(userId)));
    return factors.flatMap((factor, i) => counters[i].map((t) => ({ factor, ...t })));
  }

  /** Consecutive failed face attempts of an account, all origins together. */
  faceFailures(userId: string): Promise<number> {
    return this.limiters.face.failures(userId);
  }

  /** Re-enables the face factor and clears every counter of the account (an administrator's or operator's decision). */
  async unlockFace(userId: string): Promise<void> {
    await this.deps.users.unlockFace(userId);
    await this.forget(userId);
  }

  /** Forgets an account's counters (when it is unlocked or deleted). */
  async forget(userId: string): Promise<void> {
    await Promise.all(Object.values(this.limiters).map((l) => l.clear(userId)));
  }
}
