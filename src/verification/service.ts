import type { UserStore } from '../accounts/users.js';
import { type Challenge, engineAnalyzer } from '../challenge/index.js';
import type { TemplateStore } from '../biometrics/templates.js';
import type { Analysis, CompareResult, FaceEngine } from '../face/index.js';
import type { Settings } from '../settings/index.js';
import type { KeyValueStore } from '../store/kv.js';
import { AttemptAccounting, subjectKey, type AttemptSubject } from './accounting.js';
import { CaptureTokens } from './capture-tokens.js';
import { DeviceTokens } from './devices.js';
import { fingerprint } from './fingerprint.js';
import { type AttemptDecision, decideAttempt } from './frame-decision.js';
import { type ChallengeEvent, LiveChallenges } from './live-challenge.js';
import { ReplayGuard } from './replay.js';

export interface VerificationDeps {
  engine: Pick<FaceEngine, 'admit' | 'analyze' | 'compare' | 'modelId' | 'stats' | 'thresholds'>;
  templates: Pick<TemplateStore, 'forUser' | 'count'>;
  users: Pick<UserStore, 'lockFace' | 'unlockFace'>;
  settings: { get(): Promise<Settings>; current(): Promise<Settings> };
  kv: KeyValueStore;
  /** Signs device cookies. */
  deviceKey: Buffer;
  /** Draws sign-in challenges (default: at random); tests inject a fixed one. */
  drawChallenge?: () => Challenge;
  /** Field statistics of the challenge (console page, metrics). */
  recordChallenge?: (event: ChallengeEvent) => Promise<void>;
}

/**
 * Face verification and the attempt limits around it (`attempts`), the single owner of these rules for every
 * surface: sign-in (face and password), the Face Match API (templates, comparison, its own failure budget) and the
 * console (status, unlock). Templates only count for the running embedding model.
 */
export class FaceVerification {
  /** Failed-attempt accounting for every factor and surface. */
  readonly attempts: AttemptAccounting;
  private readonly replay: ReplayGuard;
  readonly captureTokens: CaptureTokens;
  readonly devices: DeviceTokens;
  /** The live head-movement challenge of sign-in. */
  readonly challenges: LiveChallenges;

  constructor(private readonly deps: VerificationDeps) {
    this.attempts = new AttemptAccounting(deps);
    this.replay = new ReplayGuard(deps.kv);
    this.challenges = new LiveChallenges({
      kv: deps.kv,
      attempts: this.attempts,
      // Sign-in frames come from anyone: the engine's anonymous lane.
      analyze: engineAnalyzer(deps.engine, 'anonymous'),
      // Read when each challenge is drawn: an administrator's change reaches the next challenge on every instance.
      livenessThreshold: async () => (await deps.settings.current()).livenessThreshold,
      compare: (embedding, templates) => this.compare(embedding, templates),
      screenReplay: (subject, sitting, frames) => this.screenReplay(subject, sitting, frames),
      record: deps.recordChallenge,
      draw: deps.drawChallenge,
    });
    this.captureTokens = new CaptureTokens(deps.kv);
    this.devices = new DeviceTokens(deps.deviceKey);
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

  /** True when any frame was submitted before for this subject (see ReplayGuard); remembers them all. */
  async screenReplay(subject: AttemptSubject, interaction: string, frames: Uint8Array[]): Promise<boolean> {
    return this.replay.screen(subjectKey(subject), interaction, await Promise.all(frames.map(fingerprint)));
  }

  /**
   * Analyses sign-in frames in the engine's anonymous lane, admitted together: all of them within the engine's wait,
   * or none (FaceError for unreadable input or overload).
   */
  async analyze(frames: Uint8Array[]): Promise<Analysis[]> {
    const admission = this.deps.engine.admit(frames.map(() => 'verify' as const), { lane: 'anonymous' });
    try {
      return await Promise.all(frames.map((f) => this.deps.engine.analyze(f, 'verify', { lane: 'anonymous', admission })));
    } finally {
      admission.release();
    }
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
