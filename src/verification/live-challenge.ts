import { randomBytes } from 'node:crypto';
import { type Challenge, ChallengeSession, type Decision, drawChallenge, type FrameAnalyzer, isCurrentState, type Progress, type SerializedVerifier } from '../challenge/index.js';
import type { CompareResult } from '../face/index.js';
import type { KeyValueStore } from '../store/kv.js';
import type { AttemptAccounting, AttemptSubject, AttemptTicket, FailureOutcome } from './accounting.js';
import type { Origin } from './attempts.js';

/**
 * The frame lock's lease. A frame may wait for the engine's queue and then run two analyses ('locate', then 'turn' or
 * 'verify'), each bounded by the engine's task timeout (30 s): the lease outlives all of that, so a second frame of the
 * same challenge is never judged alongside one still in the engine. It is per challenge, so a lock left by an instance
 * that died blocks only that challenge; "Start again" draws a new one. Correctness does not rest on the lease: every
 * save is a compare-and-set on the state the judgement read (see `commit`).
 */
const LOCK_SECONDS = 90;
/**
 * A challenge is kept this long past its lifetime, so that the first frame after the time is up still reaches the
 * verifier, which decides (and the reserved attempt is settled) instead of the challenge silently vanishing.
 */
const GRACE_SECONDS = 15;

/**
 * Where a challenge is answered: the sign-in's face step, the account page's re-enrollment, identity proofing, or
 * another account check.
 */
export type ChallengeSurface = 'signin' | 'reenroll' | 'proofing' | 'account';

/** What the field statistics learn of a challenge: counts and durations only, never frames, scores or who. */
export type ChallengeEvent =
  | { kind: 'started'; surface: ChallengeSurface }
  | { kind: 'passed'; surface: ChallengeSurface; durationMs: number; afterRefusal: boolean }
  | { kind: 'refused'; surface: ChallengeSurface; reason: string; firstRefusal: boolean };

/** Whom a challenge is drawn for, fixed at the draw. */
export interface ChallengeOwner {
  /** The account (or typed identifier) whose templates the frames are matched against and whose attempts count. */
  subject: AttemptSubject;
  surface: ChallengeSurface;
  /**
   * The sitting replay screening groups frames by (ReplayGuard's `uid`): near-duplicates of frames from another
   * sitting are refused. A sign-in passes its interaction; by default every challenge is its own sitting.
   */
  sitting?: string;
}

/** A challenge as stored with its interaction between frames. */
interface Stored {
  /** Incremented by every save: two saves of one state never both land, and a replaced challenge stays replaced. */
  version: number;
  challenge: Challenge;
  owner: AttemptSubject;
  surface: ChallengeSurface;
  sitting: string;
  /** The operator's passive-liveness threshold when the challenge was drawn: one challenge, one threshold. */
  livenessThreshold: number;
  /** The verifier's state after the last accepted frame; null before the first. */
  state: SerializedVerifier | null;
  /** The face attempt reserved when the first frame arrived. */
  ticket: AttemptTicket | null;
  /** Server time of the first accepted frame (time to complete). */
  firstFrameAt: number | null;
  /** Decided: single use, no frame is judged again. */
  finished: boolean;
  /** This challenge was refused. */
  refused: boolean;
  /** Challenges refused before this one for the same owner under the same key (a person who tries again). */
  refusedBefore: number;
}

const sameSubject = (a: AttemptSubject, b: AttemptSubject) => a.userId === b.userId && a.identifier === b.identifier;

export type ChallengeRefusalCode =
  | 'CHALLENGE_EXPIRED'
  | 'CHALLENGE_FINISHED'
  | 'CHALLENGE_MISMATCH'
  | 'FRAME_IN_PROGRESS'
  | 'FRAME_TOO_FAST'
  | 'FRAME_OUT_OF_ORDER'
  | 'FRAME_STALLED'
  | 'IDENTIFIER_CHANGED'
  | 'FACE_DELAYED';

const IDENTIFIER_CHANGED_MESSAGE = 'This sign-in moved to another account, so this check was stopped. Start again.';

const REFUSALS: Record<ChallengeRefusalCode, { status: number; message: string }> = {
  CHALLENGE_EXPIRED: { status: 410, message: 'This challenge has expired. Start a new one.' },
  CHALLENGE_FINISHED: { status: 409, message: 'This challenge is already decided. Start a new one.' },
  CHALLENGE_MISMATCH: { status: 409, message: 'This frame belongs to another challenge. Reload the page.' },
  FRAME_IN_PROGRESS: { status: 409, message: 'The previous frame is still being checked; send the next one.' },
  FRAME_TOO_FAST: { status: 429, message: 'Frames are arriving too fast; send at most about eight a second.' },
  FRAME_OUT_OF_ORDER: { status: 409, message: 'This frame arrived out of order.' },
  FRAME_STALLED: { status: 409, message: 'The camera sent the same picture again; send the next one.' },
  IDENTIFIER_CHANGED: { status: 409, message: IDENTIFIER_CHANGED_MESSAGE },
  FACE_DELAYED: { status: 429, message: 'Too many failed attempts.' },
};

/** A frame refused without changing the challenge (or after it ended): the caller answers it with `status`. */
export class ChallengeRefusal extends Error {
  readonly status: number;
  constructor(
    readonly code: ChallengeRefusalCode,
    message: string = REFUSALS[code].message,
    readonly retryAfter: number | null = null,
    readonly locked = false,
  ) {
    super(message);
    this.status = REFUSALS[code].status;
  }
}

/** Who is answering the challenge and where from, for the attempt it counts as. */
export interface ChallengeAttempt {
  subject: AttemptSubject;
  origin: Origin;
  /** The client's address bucket (per-IP failure counter). */
  ip: string | null;
  /** The account's templates (none for an unknown identifier), read when a frame needs the match. */
  templates: () => Promise<Float32Array[]>;
}

/**
 * How one frame ended: the challenge goes on, or was decided (a failure settled as a failed attempt unless voided).
 * `owner` is whom the challenge was drawn for: the account a decision is recorded and counted against.
 */
export type FrameOutcome = { total: number; owner: AttemptSubject } & (
  | { status: 'in_progress'; progress: Progress }
  | { status: 'passed'; progress: Progress; decision: Decision }
  | { status: 'failed'; progress: Progress; decision: Decision | null; code: string; message: string; outcome: FailureOutcome | null }
);

export interface LiveChallengeDeps {
  kv: KeyValueStore;
  attempts: AttemptAccounting;
  analyze: FrameAnalyzer;
  /** The operator's current passive-liveness threshold, read when a challenge is drawn (settings change at run time). */
  livenessThreshold: () => Promise<number>;
  compare(embedding: Float32Array, templates: Float32Array[]): CompareResult;
  /** True when a frame was seen before for this subject in another sitting (remembers it). */
  screenReplay(subject: AttemptSubject, sitting: string, frames: Uint8Array[]): Promise<boolean>;
  /** Field statistics (aggregate counts); a failure to record never fails a frame. */
  record?: (event: ChallengeEvent) => Promise<void>;
  /** Draws a challenge; tests inject a fixed one. */
  draw?: () => Challenge;
}

/** The verifier's refusals of a single frame (not analysed, the challenge goes on) as the live path answers them. */
const FRAME_REFUSALS: Record<string, ChallengeRefusalCode> = { TOO_FAST: 'FRAME_TOO_FAST', OUT_OF_ORDER: 'FRAME_OUT_OF_ORDER', STALLED: 'FRAME_STALLED' };

const REPLAY_MESSAGE = 'These pictures were already used to sign in. Look at the camera yourself and start again.';

/** A frame's judgement, ready to be saved: the state to store and what happens once it is stored. */
interface Judged {
  next: Stored;
  /** Settles the attempt and records statistics; runs only after the save landed. */
  settle: () => Promise<FrameOutcome>;
}

/**
 * The live head-movement challenge of a sign-in or a re-enrollment: one per key (interaction, account) in the shared
 * store, drawn for one owner (the account or identifier at the draw, whose templates and attempt limits apply; it
 * ends when another identifier answers it), valid for its lifetime, single use. Judging a frame and replacing a
 * challenge are atomic across instances: frames of a challenge are judged one at a time under a leased lock, and
 * every save is a compare-and-set on the version that was read, so a judgement of a replaced (or already judged)
 * state is discarded and nothing of it is counted. One face attempt per challenge — reserved at its first frame,
 * settled by its decision.
 */
export class LiveChallenges {
  private readonly draw: () => Challenge;

  constructor(private readonly deps: LiveChallengeDeps) {
    this.draw = deps.draw ?? (() => drawChallenge());
  }

  private key(key: string) {
    return `challenge:${key}`;
  }

  private ttl(stored: Stored): number {
    return Math.max(1, Math.ceil((stored.challenge.expiresAt - Date.now()) / 1000) + GRACE_SECONDS);
  }

  /** Saves `next` only while the store still holds `raw` (what the caller read); false when someone else saved first. */
  private commit(key: string, raw: string | null, next: Stored): Promise<boolean> {
    return this.deps.kv.replaceIfEquals(this.key(key), raw, JSON.stringify(next), this.ttl(next));
  }

  private async record(event: ChallengeEvent): Promise<void> {
    await this.deps.record?.(event).catch(() => undefined);
  }

  /**
   * Draws a new challenge under `key` for `owner`, replacing any earlier one (whose reserved attempt stays counted,
   * and which no frame in flight can bring back). Only an explicit request starts one, never a page view.
   */
  async start(key: string, owner: ChallengeOwner): Promise<Challenge> {
    const livenessThreshold = await this.deps.livenessThreshold();
    for (;;) {
      const raw = await this.deps.kv.get(this.key(key));
      const prev = raw ? (JSON.parse(raw) as Stored) : null;
      const challenge = this.draw();
      // The same person trying again: kept for the share of people who pass after a refusal.
      const refusedBefore = prev && sameSubject(prev.owner, owner.subject) ? prev.refusedBefore + (prev.refused ? 1 : 0) : 0;
      const next: Stored = {
        version: (prev?.version ?? 0) + 1,
        challenge,
        owner: owner.subject,
        surface: owner.surface,
        sitting: owner.sitting ?? challenge.id,
        livenessThreshold,
        state: null,
        ticket: null,
        firstFrameAt: null,
        finished: false,
        refused: false,
        refusedBefore,
      };
      if (await this.commit(key, raw, next)) return challenge;
    }
  }

  /**
   * Judges one frame of the challenge `challengeId` under `key`, at server time `now`. Throws ChallengeRefusal for
   * frames that cannot be judged, and the engine's FaceError (not an image, overloaded) with the challenge unchanged.
   */
  async frame(key: string, challengeId: string, image: Uint8Array, now: number, who: ChallengeAttempt): Promise<FrameOutcome> {
    const lock = `challenge-lock:${key}:${challengeId}`;
    const holder = randomBytes(8).toString('hex');
    if (!(await this.deps.kv.setIfAbsent(lock, holder, LOCK_SECONDS))) throw new ChallengeRefusal('FRAME_IN_PROGRESS');
    try {
      const raw = await this.deps.kv.get(this.key(key));
      if (!raw) throw new ChallengeRefusal('CHALLENGE_EXPIRED');
      const stored = JSON.parse(raw) as Stored;
      if (stored.challenge.id !== challengeId) throw new ChallengeRefusal('CHALLENGE_MISMATCH');
      if (stored.finished) throw new ChallengeRefusal('CHALLENGE_FINISHED');
      // Stored by another release during a rolling update: that challenge cannot be continued here.
      if (stored.state && !isCurrentState(stored.state)) throw new ChallengeRefusal('CHALLENGE_EXPIRED');
      const judged = sameSubject(stored.owner, who.subject) ? await this.judge(stored, image, now, who) : await this.ownerChanged(stored);
      if (!(await this.commit(key, raw, judged.next))) {
        // Replaced, or judged elsewhere after this lock's lease ran out: this judgement never happened.
        if (judged.next.ticket && !stored.ticket) await this.deps.attempts.resume(judged.next.ticket).voided();
        throw new ChallengeRefusal('CHALLENGE_MISMATCH');
      }
      return await judged.settle();
    } finally {
      await this.deps.kv.takeIfEquals(lock, holder);
    }
  }

  /**
   * Another identifier is answering (the sign-in went back to `/identify`): the challenge ends with its owner. An
   * attempt already reserved stays the owner's, whose templates its frames were matched against.
   */
  private async ownerChanged(stored: Stored): Promise<Judged> {
    const next = { ...stored, version: stored.version + 1, finished: true, refused: stored.ticket !== null };
    return {
      next,
      settle: async () => {
        if (!stored.ticket) throw new ChallengeRefusal('IDENTIFIER_CHANGED');
        const outcome = await this.deps.attempts.resume(stored.ticket).failed();
        await this.record({ kind: 'refused', surface: stored.surface, reason: 'IDENTIFIER_CHANGED', firstRefusal: stored.refusedBefore === 0 });
        const progress = ChallengeSession.resume(stored.state!, this.sessionOptions(stored, [])).progress();
        return {
          total: stored.challenge.movements.length,
          owner: stored.owner,
          status: 'failed',
          progress: { ...progress, status: 'failed', step: 'done' },
          decision: null,
          code: 'IDENTIFIER_CHANGED',
          message: IDENTIFIER_CHANGED_MESSAGE,
          outcome,
        };
      },
    };
  }

  private sessionOptions(stored: Stored, templates: Float32Array[]) {
    return { analyze: this.deps.analyze, livenessThreshold: stored.livenessThreshold, compare: (e: Float32Array) => this.deps.compare(e, templates) };
  }

  private async judge(stored: Stored, image: Uint8Array, now: number, who: ChallengeAttempt): Promise<Judged> {
    const fresh = stored.ticket === null;
    // A challenge nobody started in time is simply over: no attempt was made.
    if (fresh && now > stored.challenge.expiresAt) throw new ChallengeRefusal('CHALLENGE_EXPIRED');
    let ticket = stored.ticket;
    if (!ticket) {
      // Reserved before anything is compared, so parallel challenges cannot overtake the count.
      const start = await this.deps.attempts.begin('face', stored.owner, who.origin, who.ip);
      if (!start.allowed) throw new ChallengeRefusal('FACE_DELAYED', undefined, start.retryAfter, start.locked);
      ticket = start.ticket;
    }
    const attempt = this.deps.attempts.resume(ticket);
    const total = stored.challenge.movements.length;
    const owner = stored.owner;
    const { surface } = stored;
    let session: ChallengeSession;
    let result;
    try {
      const opts = this.sessionOptions(stored, await who.templates());
      session = stored.state ? ChallengeSession.resume(stored.state, opts) : ChallengeSession.start(stored.challenge, opts);
      result = await session.push(image, now);
    } catch (err) {
      // Nothing was judged: a fresh reservation is given back, so the frame can simply be sent again.
      if (fresh) await attempt.voided();
      throw err;
    }
    if (!result.accepted && result.refusal !== 'CHALLENGE_FINISHED') {
      if (fresh) await attempt.voided();
      throw new ChallengeRefusal(FRAME_REFUSALS[result.refusal ?? ''] ?? 'FRAME_OUT_OF_ORDER');
    }
    const base = { ...stored, version: stored.version + 1, state: session.toJSON(), ticket, firstFrameAt: stored.firstFrameAt ?? now };
    const started = async () => {
      if (fresh) await this.record({ kind: 'started', surface });
    };
    const refused = async (reason: string) => this.record({ kind: 'refused', surface, reason, firstRefusal: stored.refusedBefore === 0 });
    const failedNext: Stored = { ...base, finished: true, refused: true };

    // The frames a decision rests on are screened while their bytes are at hand: a recorded answer replayed later
    // in another sitting is refused even when it follows the drawn order.
    if (result.evidence && (await this.deps.screenReplay(owner, stored.sitting, [image]))) {
      return {
        next: failedNext,
        settle: async () => {
          await started();
          await refused('FRAME_REPLAYED');
          const outcome = await attempt.failed();
          return { total, owner, status: 'failed', progress: { ...result.progress, status: 'failed', step: 'done' }, decision: null, code: 'FRAME_REPLAYED', message: REPLAY_MESSAGE, outcome };
        },
      };
    }
    const progress = result.progress;
    if (progress.status === 'passed') {
      return {
        next: { ...base, finished: true },
        settle: async () => {
          await started();
          await attempt.succeeded();
          await this.record({ kind: 'passed', surface, durationMs: now - base.firstFrameAt, afterRefusal: stored.refusedBefore > 0 });
          return { total, owner, status: 'passed', progress, decision: session.finish(now) };
        },
      };
    }
    if (progress.status === 'failed') {
      const decision = session.finish(now);
      const code = progress.failure?.code ?? decision.code ?? 'CHALLENGE_EXPIRED';
      const message = progress.failure?.message ?? decision.message;
      return {
        next: { ...failedNext, state: session.toJSON() },
        settle: async () => {
          await started();
          await refused(code);
          // A challenge that never saw a frontal face compared nothing: like a capture without a usable face, it does not count.
          if (code === 'NOT_FRONTAL') {
            await attempt.voided();
            return { total, owner, status: 'failed', progress, decision, code, message, outcome: null };
          }
          return { total, owner, status: 'failed', progress, decision, code, message, outcome: await attempt.failed() };
        },
      };
    }
    return {
      next: base,
      settle: async () => {
        await started();
        return { total, owner, status: 'in_progress', progress };
      },
    };
  }
}
