import type { UserStore } from '../accounts/users.js';
import type { TemplateStore } from '../biometrics/templates.js';
import type { Analysis, CompareResult, FaceEngine } from '../face/index.js';
import type { Settings } from '../settings/index.js';
import type { KeyValueStore } from '../store/kv.js';
import { AttemptLimiter, type LimitPolicy, type LimitVerdict } from './attempts.js';
import { CaptureTokens } from './capture-tokens.js';
import { fingerprint } from './fingerprint.js';
import { type AttemptDecision, decideAttempt } from './frame-decision.js';
import { ReplayGuard } from './replay.js';

/** The factors whose failed attempts are counted per account. */
export type CountedFactor = 'pwd' | 'face' | 'passkey';

/**
 * Whose attempts are counted: a known account by its id; an identifier that matches no active account by what was
 * typed, so that unknown accounts are throttled exactly like known ones.
 */
export interface AttemptSubject {
  userId: string | null;
  identifier: string;
}

/** A passkey sign-in without an email names no account until it succeeds: its failures count per client address. */
export const addressSubject = (ip: string): AttemptSubject => ({ userId: null, identifier: `address:${ip}` });

export interface FailureOutcome {
  failures: number;
  /** The lockout count was reached; a known account's face factor is now locked durably. */
  locked: boolean;
  /** From now on each attempt waits `delaySeconds`. */
  delayed: boolean;
  delaySeconds: number;
}

export interface VerificationDeps {
  engine: Pick<FaceEngine, 'analyze' | 'compare' | 'modelId' | 'stats'>;
  templates: Pick<TemplateStore, 'forUser' | 'count'>;
  users: Pick<UserStore, 'lockFace' | 'unlockFace'>;
  settings: { get(): Promise<Settings> };
  kv: KeyValueStore;
}

const keyOf = (s: AttemptSubject) => s.userId ?? `unknown:${s.identifier}`;

/**
 * Face verification and the attempt limits around it, the single owner of these rules for every surface: sign-in,
 * the Face Match API (templates, comparison) and the console (failure counts, unlock). Templates only count for
 * the running embedding model.
 */
export class FaceVerification {
  private readonly limiters: Record<CountedFactor, AttemptLimiter>;
  private readonly replay: ReplayGuard;
  readonly captureTokens: CaptureTokens;

  constructor(private readonly deps: VerificationDeps) {
    this.limiters = { pwd: new AttemptLimiter(deps.kv, 'pwd'), face: new AttemptLimiter(deps.kv, 'face'), passkey: new AttemptLimiter(deps.kv, 'passkey') };
    this.replay = new ReplayGuard(deps.kv);
    this.captureTokens = new CaptureTokens(deps.kv);
  }

  async hasFace(userId: string): Promise<boolean> {
    return (await this.deps.templates.count(userId, this.deps.engine.modelId)) > 0;
  }

  async enrolledTemplates(userId: string): Promise<Float32Array[]> {
    return (await this.deps.templates.forUser(userId, this.deps.engine.modelId)).map((t) => t.embedding);
  }

  compare(embedding: Float32Array, templates: Float32Array[]): CompareResult {
    return this.deps.engine.compare(embedding, templates);
  }

  async policy(): Promise<LimitPolicy> {
    const s = await this.deps.settings.get();
    return { failuresBeforeDelay: s.faceFailuresBeforeDelay, delaySeconds: s.failureDelaySeconds, failuresBeforeLockout: s.faceFailuresBeforeLockout };
  }

  /** Whether an attempt may run now (NIST SP 800-63B-4 delay and lockout). */
  async check(factor: CountedFactor, subject: AttemptSubject): Promise<LimitVerdict> {
    return this.limiters[factor].check(keyOf(subject), await this.policy());
  }

  /** Counts a failed verification; at the lockout count a known account's face factor is locked until an admin unlocks it. */
  async fail(factor: CountedFactor, subject: AttemptSubject): Promise<FailureOutcome> {
    const policy = await this.policy();
    // Only the face factor is disabled at the lockout count; password and passkey failures keep delaying.
    const counted = factor === 'face' ? policy : { ...policy, failuresBeforeLockout: Number.MAX_SAFE_INTEGER };
    const { failures, locked } = await this.limiters[factor].fail(keyOf(subject), counted);
    if (locked && factor === 'face' && subject.userId) await this.deps.users.lockFace(subject.userId);
    return { failures, locked, delayed: failures >= policy.failuresBeforeDelay, delaySeconds: policy.delaySeconds };
  }

  async succeed(factor: CountedFactor, subject: AttemptSubject): Promise<void> {
    await this.limiters[factor].reset(keyOf(subject));
  }

  /** Consecutive failed face attempts of an account (what the delay and lockout read). */
  faceFailures(userId: string): Promise<number> {
    return this.limiters.face.failures(userId);
  }

  /** Re-enables the face factor after a lockout: the durable flag and the consecutive-failure counter. */
  async unlockFace(userId: string): Promise<void> {
    await this.deps.users.unlockFace(userId);
    await this.limiters.face.reset(userId);
  }

  /** Forgets an account's counters (when the account is deleted). */
  async forget(userId: string): Promise<void> {
    await Promise.all(Object.values(this.limiters).map((l) => l.reset(userId)));
  }

  /** True when any frame was submitted before for this subject (see ReplayGuard); remembers them all. */
  async screenReplay(subject: AttemptSubject, interaction: string, frames: Uint8Array[]): Promise<boolean> {
    return this.replay.screen(keyOf(subject), interaction, await Promise.all(frames.map(fingerprint)));
  }

  /** Analyses frames in the engine (FaceError for unreadable input or overload). */
  analyze(frames: Uint8Array[]): Promise<Analysis[]> {
    return Promise.all(frames.map((f) => this.deps.engine.analyze(f, 'verify')));
  }

  /**
   * Decides one attempt against `templates` (none for an unknown account). Frames are analysed in rounds as wide as
   * the worker pool, stopping at the first round with a verified frame: an honest capture usually verifies on its
   * first frames, and a refused one is still judged on all of them.
   */
  async verifyFrames(frames: Uint8Array[], templates: Promise<Float32Array[]>): Promise<AttemptDecision> {
    const round = Math.max(1, this.deps.engine.stats().poolSize);
    const analyses: Analysis[] = [];
    for (let i = 0; ; i += round) {
      const [batch, enrolled] = await Promise.all([this.analyze(frames.slice(i, i + round)), templates]);
      analyses.push(...batch);
      const decision = decideAttempt(analyses, (embedding) => this.deps.engine.compare(embedding, enrolled));
      if (decision.outcome === 'verified' || i + round >= frames.length) return decision;
    }
  }
}
