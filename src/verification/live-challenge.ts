import { randomBytes } from 'node:crypto';
import { type Challenge, ChallengeSession, type Decision, drawChallenge, type FrameAnalyzer, type Progress, type SerializedVerifier } from '../challenge/index.js';
import type { CompareResult } from '../face/index.js';
import type { KeyValueStore } from '../store/kv.js';
import type { AttemptAccounting, AttemptSubject, AttemptTicket, FailureOutcome } from './accounting.js';
import type { Origin } from './attempts.js';

/** A frame is judged in well under this; the lock only has to outlive one judgement if an instance dies holding it. */
const LOCK_SECONDS = 10;
/**
 * A challenge is kept this long past its lifetime, so that the first frame after the time is up still reaches the
 * verifier, which decides (and the reserved attempt is settled) instead of the challenge silently vanishing.
 */
const GRACE_SECONDS = 15;

/** A challenge as stored with its interaction between frames. */
interface Stored {
  challenge: Challenge;
  /** The verifier's state after the last accepted frame; null before the first. */
  state: SerializedVerifier | null;
  /** The face attempt reserved when the first frame arrived. */
  ticket: AttemptTicket | null;
  /** Decided: single use, no frame is judged again. */
  finished: boolean;
}

export type ChallengeRefusalCode =
  | 'CHALLENGE_EXPIRED'
  | 'CHALLENGE_FINISHED'
  | 'CHALLENGE_MISMATCH'
  | 'FRAME_IN_PROGRESS'
  | 'FRAME_TOO_FAST'
  | 'FRAME_OUT_OF_ORDER'
  | 'FACE_DELAYED';

const REFUSALS: Record<ChallengeRefusalCode, { status: number; message: string }> = {
  CHALLENGE_EXPIRED: { status: 410, message: 'This challenge has expired. Start a new one.' },
  CHALLENGE_FINISHED: { status: 409, message: 'This challenge is already decided. Start a new one.' },
  CHALLENGE_MISMATCH: { status: 409, message: 'This frame belongs to another challenge. Reload the page.' },
  FRAME_IN_PROGRESS: { status: 409, message: 'The previous frame is still being checked; send the next one.' },
  FRAME_TOO_FAST: { status: 429, message: 'Frames are arriving too fast; send at most about four a second.' },
  FRAME_OUT_OF_ORDER: { status: 409, message: 'This frame arrived out of order.' },
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

/** How one frame ended: the challenge goes on, or was decided (a failure settled as a failed attempt unless voided). */
export type FrameOutcome = { total: number } & (
  | { status: 'in_progress'; progress: Progress }
  | { status: 'passed'; progress: Progress; decision: Decision }
  | { status: 'failed'; progress: Progress; decision: Decision | null; code: string; message: string; outcome: FailureOutcome | null }
);

export interface LiveChallengeDeps {
  kv: KeyValueStore;
  attempts: AttemptAccounting;
  analyze: FrameAnalyzer;
  livenessThreshold: number;
  compare(embedding: Float32Array, templates: Float32Array[]): CompareResult;
  /** True when a frame was seen before for this subject (remembers it). */
  screenReplay(subject: AttemptSubject, interaction: string, frames: Uint8Array[]): Promise<boolean>;
  /** Draws a challenge; tests inject a fixed one. */
  draw?: () => Challenge;
}

const REPLAY_MESSAGE = 'These pictures were already used to sign in. Look at the camera yourself and start again.';

/**
 * The live head-movement challenge of a sign-in: one per interaction in the shared store (valid for its lifetime,
 * single use), its frames judged one at a time across instances, and one face attempt per challenge — reserved at
 * its first frame, settled by its decision.
 */
export class LiveChallenges {
  private readonly draw: () => Challenge;

  constructor(private readonly deps: LiveChallengeDeps) {
    this.draw = deps.draw ?? (() => drawChallenge());
  }

  private key(uid: string) {
    return `challenge:${uid}`;
  }

  private async save(uid: string, stored: Stored): Promise<void> {
    const ttl = Math.ceil((stored.challenge.expiresAt - Date.now()) / 1000) + GRACE_SECONDS;
    if (ttl > 0) await this.deps.kv.set(this.key(uid), JSON.stringify(stored), ttl);
    else await this.deps.kv.del(this.key(uid));
  }

  /** Draws a new challenge for the interaction, replacing any earlier one (whose reserved attempt stays counted). */
  async start(uid: string): Promise<Challenge> {
    const challenge = this.draw();
    await this.save(uid, { challenge, state: null, ticket: null, finished: false });
    return challenge;
  }

  /**
   * Judges one frame of the interaction's challenge `challengeId`, at server time `now`. Throws ChallengeRefusal
   * for frames that cannot be judged, and the engine's FaceError (not an image, overloaded) with the challenge
   * unchanged.
   */
  async frame(uid: string, challengeId: string, image: Uint8Array, now: number, who: ChallengeAttempt): Promise<FrameOutcome> {
    const lock = `challenge-lock:${uid}`;
    const holder = randomBytes(8).toString('hex');
    if (!(await this.deps.kv.setIfAbsent(lock, holder, LOCK_SECONDS))) throw new ChallengeRefusal('FRAME_IN_PROGRESS');
    try {
      return await this.judge(uid, challengeId, image, now, who);
    } finally {
      await this.deps.kv.takeIfEquals(lock, holder);
    }
  }

  private async judge(uid: string, challengeId: string, image: Uint8Array, now: number, who: ChallengeAttempt): Promise<FrameOutcome> {
    const raw = await this.deps.kv.get(this.key(uid));
    if (!raw) throw new ChallengeRefusal('CHALLENGE_EXPIRED');
    const stored = JSON.parse(raw) as Stored;
    if (stored.challenge.id !== challengeId) throw new ChallengeRefusal('CHALLENGE_MISMATCH');
    if (stored.finished) throw new ChallengeRefusal('CHALLENGE_FINISHED');

    const fresh = stored.ticket === null;
    // A challenge nobody started in time is simply over: no attempt was made.
    if (fresh && now > stored.challenge.expiresAt) throw new ChallengeRefusal('CHALLENGE_EXPIRED');
    if (fresh) {
      // Reserved before anything is compared, so parallel challenges cannot overtake the count.
      const start = await this.deps.attempts.begin('face', who.subject, who.origin, who.ip);
      if (!start.allowed) throw new ChallengeRefusal('FACE_DELAYED', undefined, start.retryAfter, start.locked);
      stored.ticket = start.ticket;
    }
    const attempt = this.deps.attempts.resume(stored.ticket!);
    const total = stored.challenge.movements.length;
    const templates = await who.templates();
    const opts = { analyze: this.deps.analyze, livenessThreshold: this.deps.livenessThreshold, compare: (e: Float32Array) => this.deps.compare(e, templates) };
    const session = stored.state ? ChallengeSession.resume(stored.state, opts) : ChallengeSession.start(stored.challenge, opts);
    let result;
    try {
      result = await session.push(image, now);
    } catch (err) {
      // Nothing was judged: a fresh reservation is given back, so the frame can simply be sent again.
      if (fresh) await attempt.voided();
      throw err;
    }
    if (!result.accepted && result.refusal !== 'CHALLENGE_FINISHED') {
      if (fresh) await attempt.voided();
      throw new ChallengeRefusal(result.refusal === 'TOO_FAST' ? 'FRAME_TOO_FAST' : 'FRAME_OUT_OF_ORDER');
    }
    const finish = async (): Promise<void> => this.save(uid, { ...stored, state: session.toJSON(), finished: true });

    // The frames a decision rests on are screened while their bytes are at hand: a recorded answer replayed later
    // in another sign-in is refused even when it follows the drawn order.
    if (result.evidence && (await this.deps.screenReplay(who.subject, uid, [image]))) {
      await finish();
      const outcome = await attempt.failed();
      return { total, status: 'failed', progress: { ...result.progress, status: 'failed', step: 'done' }, decision: null, code: 'FRAME_REPLAYED', message: REPLAY_MESSAGE, outcome };
    }
    const progress = result.progress;
    if (progress.status === 'passed') {
      await finish();
      await attempt.succeeded();
      return { total, status: 'passed', progress, decision: session.finish(now) };
    }
    if (progress.status === 'failed') {
      await finish();
      const decision = session.finish(now);
      const code = progress.failure?.code ?? decision.code ?? 'CHALLENGE_EXPIRED';
      // A challenge that never saw a frontal face compared nothing: like a capture without a usable face, it does not count.
      if (code === 'NOT_FRONTAL') {
        await attempt.voided();
        return { total, status: 'failed', progress, decision, code, message: progress.failure?.message ?? decision.message, outcome: null };
      }
      return { total, status: 'failed', progress, decision, code, message: progress.failure?.message ?? decision.message, outcome: await attempt.failed() };
    }
    await this.save(uid, { ...stored, state: session.toJSON() });
    return { total, status: 'in_progress', progress };
  }
}
