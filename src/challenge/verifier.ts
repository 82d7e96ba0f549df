import { cosine, type CompareResult } from '../face/index.js';
import { eyeFrame, eyesOnOutline, faceSize, noseOffset, noseParallax, type Point } from './geometry.js';
import { failureMessage, HINTS } from './guidance.js';
import { DEFAULT_RULES, type ChallengeRules } from './rules.js';
import {
  MOVEMENTS,
  type Challenge,
  type Decision,
  type FailureCode,
  type FramePurpose,
  type FrameRefusal,
  type Movement,
  type Observation,
  type Progress,
} from './types.js';

export interface VerifierOptions {
  /** p(live) threshold of the engine; the mean over the final frontal frames must reach it. */
  livenessThreshold: number;
  /** The account's templates. Without it (offline evaluation) the match is not checked. */
  compare?: (embedding: Float32Array) => CompareResult;
  rules?: Partial<ChallengeRules>;
}

type Phase = 'start' | 'steps' | 'return' | 'done';

interface Evidence {
  index: number;
  kind: 'step' | 'final';
  embedding: Float32Array;
  liveness: number;
  sha256: string;
}

interface Baseline {
  landmarks: Point[];
  x: number;
  y: number;
  /** `eyesOnOutline` of the baseline frame. */
  ex: number;
  ey: number;
  yaw: number;
  pitch: number;
}

interface State {
  phase: Phase;
  frames: number;
  lastT: number | null;
  digests: string[];
  analysed: Record<FramePurpose, number>;
  cpuMs: number;
  baseline: Baseline | null;
  stepIndex: number;
  completed: Movement[];
  /** Best fraction of the current step's offset target seen so far (for "turn further"). */
  best: number;
  /** Frames of the current step that reached the target without moving like a head. */
  flat: number;
  lastFace: { t: number; x: number; y: number; size: number } | null;
  /** Why the last final frame did not pass, while more may come. */
  finalFailure: 'LIVENESS_FAILED' | 'NO_MATCH' | null;
  evidence: Evidence[];
  finalTries: number;
  hint: string;
  failure: { code: FailureCode; message: string } | null;
  details: Record<string, number | string | boolean | null>;
}

/** The observation cannot be judged without an embedding: analyse the same frame with 'verify' and observe again. */
export const NEEDS_VERIFY = Symbol('needs verify');

interface Delta {
  x: number;
  y: number;
  yaw: number;
  pitch: number;
  /** Shift of the eyes on the outline. */
  ex: number;
  ey: number;
}

const SIDEWAYS = new Set<Movement>(['left', 'right']);

/** Signed progress along a movement: nose offset (left: towards the image's right), fr_pose degrees, eye shift. */
function along(m: Movement, d: Delta): { offset: number; degrees: number; eyes: number } {
  switch (m) {
    case 'left':
      return { offset: d.x, degrees: -d.yaw, eyes: d.ex };
    case 'right':
      return { offset: -d.x, degrees: d.yaw, eyes: -d.ex };
    case 'up':
      return { offset: -d.y, degrees: d.pitch, eyes: -d.ey };
    case 'down':
      return { offset: d.y, degrees: -d.pitch, eyes: d.ey };
  }
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Incremental verifier of one challenge: frames arrive one at a time with server timestamps, and each answer says
 * where the user is. The live path and the offline evaluation both drive it through `ChallengeSession`; it holds
 * no I/O and its state survives `toJSON`/`fromJSON`, so consecutive frames may be judged by different instances.
 *
 * Sequence: a frontal baseline frame (absolute pose), then each movement in order — reaching its target in
 * landmarks and in fr_pose, with the nose leaving the face plane and the eyes moving on the outline as a rotating
 * head's do — and a frontal frame again at the end. A full movement not asked for yet fails at once. Every frame
 * after the baseline must show exactly one subject whose eyes move no further and whose size changes no more than
 * motion allows. Only the step frames and the final frames are analysed with 'verify': their embeddings must stay
 * close to each other, and the final frames carry the passive liveness and the template match.
 */
export class ChallengeVerifier {
  readonly rules: ChallengeRules;
  private s: State;

  constructor(
    readonly challenge: Challenge,
    private readonly opts: VerifierOptions,
    state?: State,
  ) {
    this.rules = { ...DEFAULT_RULES, ...opts.rules };
    this.s = state ?? {
      phase: 'start',
      frames: 0,
      lastT: null,
      digests: [],
      analysed: { locate: 0, track: 0, verify: 0 },
      cpuMs: 0,
      baseline: null,
      stepIndex: 0,
      completed: [],
      best: 0,
      flat: 0,
      lastFace: null,
      finalFailure: null,
      evidence: [],
      finalTries: 0,
      hint: HINTS.start,
      failure: null,
      details: {},
    };
  }

  get finished(): boolean {
    return this.s.phase === 'done';
  }

  /**
   * The baseline needs the pose ('track'); after it frames are only located ('locate'), and `observe` asks for
   * 'verify' (pose and embedding) on the few whose landmarks say they may decide.
   */
  get nextPurpose(): FramePurpose {
    return this.s.phase === 'start' ? 'track' : 'locate';
  }

  /**
   * Timing and replay checks before a frame is analysed. Non-fatal refusals leave the challenge as it was; an
   * expired challenge, a repeated frame, a long gap or too many frames fail it (returned as CHALLENGE_FINISHED).
   */
  admit(t: number, sha256: string): FrameRefusal | null {
    const s = this.s;
    if (s.phase === 'done') return 'CHALLENGE_FINISHED';
    if (!Number.isFinite(t) || t < this.challenge.createdAt || (s.lastT !== null && t < s.lastT)) return 'OUT_OF_ORDER';
    if (s.lastT !== null && t - s.lastT < this.rules.minFrameIntervalMs) return 'TOO_FAST';
    const fatal: FailureCode | null =
      t > this.challenge.expiresAt
        ? 'CHALLENGE_EXPIRED'
        : s.digests.includes(sha256)
          ? 'REPEATED_FRAME'
          : s.lastT !== null && t - s.lastT > this.rules.maxFrameGapMs
            ? 'FRAME_GAP'
            : s.frames >= this.rules.maxFrames
              ? 'TOO_MANY_FRAMES'
              : null;
    if (!fatal) return null;
    this.fail(s, fatal);
    return 'CHALLENGE_FINISHED';
  }

  /** Engine time of one analysis (counted even when the frame is then analysed again with 'verify'). */
  account(purpose: FramePurpose, ms: number): void {
    // A state stored before 'locate' existed has no count for it.
    this.s.analysed[purpose] = (this.s.analysed[purpose] ?? 0) + 1;
    this.s.cpuMs += ms;
  }

  /** Judges one admitted frame. Returns NEEDS_VERIFY, without changing anything, when it needs an embedding. */
  observe(obs: Observation): Progress | typeof NEEDS_VERIFY {
    if (this.s.phase === 'done') return this.progress(obs.t);
    const draft: State = { ...this.s, digests: [...this.s.digests, obs.sha256], evidence: [...this.s.evidence], completed: [...this.s.completed], details: { ...this.s.details } };
    const index = draft.frames;
    draft.frames++;
    draft.lastT = obs.t;
    if (this.judge(draft, obs, index) === NEEDS_VERIFY) return NEEDS_VERIFY;
    this.s = draft;
    return this.progress(obs.t);
  }

  /** Ends the challenge when no more frames will come (time is up, or the offline clip ended). */
  finish(t: number): Decision {
    const s = this.s;
    if (s.phase !== 'done') {
      const step = this.challenge.movements[s.stepIndex] ?? null;
      const code: FailureCode =
        s.phase === 'start'
          ? 'NOT_FRONTAL'
          : s.phase === 'return'
            ? (s.finalFailure ?? 'NO_RETURN')
            : t >= this.challenge.expiresAt && s.best < 0.3
              ? 'CHALLENGE_EXPIRED'
              : 'TARGET_NOT_REACHED';
      this.fail(s, code, step);
    }
    return this.decision();
  }

  progress(t = this.s.lastT ?? this.challenge.createdAt): Progress {
    const s = this.s;
    const moves = this.challenge.movements;
    const passed = s.phase === 'done' && !s.failure;
    return {
      status: s.phase === 'done' ? (passed ? 'passed' : 'failed') : s.phase === 'start' ? 'waiting' : 'in_progress',
      step: s.phase === 'done' ? 'done' : s.phase === 'steps' ? moves[s.stepIndex] : 'frontal',
      stepIndex: s.stepIndex,
      completed: [...s.completed],
      next: s.phase === 'start' ? moves[0] : s.phase === 'steps' ? (moves[s.stepIndex + 1] ?? null) : null,
      hint: s.hint,
      failure: s.failure,
      remainingMs: Math.max(0, this.challenge.expiresAt - t),
    };
  }

  decision(): Decision {
    const s = this.s;
    const passed = s.phase === 'done' && !s.failure;
    return {
      passed,
      code: s.failure?.code ?? null,
      message: s.failure?.message ?? (passed ? HINTS.passed : HINTS.start),
      challenge: this.challenge,
      completed: [...s.completed],
      frames: s.frames,
      analysed: { ...s.analysed },
      cpuMs: round(s.cpuMs, 1),
      evidence: s.evidence.map((e) => e.index),
      details: { ...s.details },
    };
  }

  /** SHA-256 of every accepted frame, and of the evidence frames, for replay screening across sign-ins. */
  digests(): { all: string[]; evidence: string[] } {
    return { all: [...this.s.digests], evidence: this.s.evidence.map((e) => e.sha256) };
  }

  toJSON(): SerializedVerifier {
    const { evidence, ...rest } = this.s;
    return {
      v: 1,
      challenge: this.challenge,
      state: { ...rest, evidence: evidence.map((e) => ({ ...e, embedding: Buffer.from(e.embedding.buffer, e.embedding.byteOffset, e.embedding.byteLength).toString('base64') })) },
    };
  }

  static fromJSON(json: SerializedVerifier, opts: VerifierOptions): ChallengeVerifier {
    if (json?.v !== 1) throw new TypeError('unknown challenge verifier state');
    const evidence = json.state.evidence.map((e) => {
      const bytes = Buffer.from(e.embedding, 'base64');
      return { ...e, embedding: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    });
    return new ChallengeVerifier(json.challenge, opts, { ...json.state, evidence });
  }

  private fail(s: State, code: FailureCode, step: Movement | null = null): void {
    s.phase = 'done';
    s.failure = { code, message: failureMessage(code, step) };
    s.hint = s.failure.message;
  }

  private targets(m: Movement): { offset: number; degrees: number } {
    const r = this.rules;
    return SIDEWAYS.has(m) ? { offset: r.sideOffset, degrees: r.sideDegrees } : { offset: r.verticalOffset, degrees: r.verticalDegrees };
  }

  /** The frame shows movement m in full: offset and angle targets met (and, if `dominant`, m's axis leads the other). */
  private reached(m: Movement, d: Delta, dominant = false): boolean {
    const a = along(m, d);
    const t = this.targets(m);
    if (a.offset < t.offset || a.degrees < t.degrees) return false;
    const other = SIDEWAYS.has(m) ? Math.abs(d.y) / this.rules.verticalOffset : Math.abs(d.x) / this.rules.sideOffset;
    return !dominant || a.offset / t.offset >= other;
  }

  private frontal(d: Delta): boolean {
    const r = this.rules;
    return Math.abs(d.x) <= r.frontalOffset && Math.abs(d.y) <= r.frontalOffset && Math.abs(d.yaw) <= r.frontalDegrees && Math.abs(d.pitch) <= r.frontalDegrees;
  }

  /**
   * Identity continuity: the final frontal frame's embedding must be close to every step frame's, so the face that
   * turned is the face that matches the account at the end. Step frames are compared with the frontal one rather
   * than with each other: a face turned one way and the same face turned the other way are further apart.
   */
  private addEvidence(s: State, obs: Observation, index: number, kind: Evidence['kind']): boolean {
    const embedding = obs.embedding!;
    const against = kind === 'final' ? s.evidence.filter((e) => e.kind === 'step') : [];
    for (const e of against) {
      const c = cosine(e.embedding, embedding);
      s.details.minContinuity = Math.min(Number(s.details.minContinuity ?? 1), round(c));
      if (c < this.rules.minContinuity) {
        this.fail(s, 'IDENTITY_CHANGED');
        return false;
      }
    }
    s.evidence.push({ index, kind, embedding, liveness: obs.liveness?.score ?? 0, sha256: obs.sha256 });
    return true;
  }

  private judge(s: State, obs: Observation, index: number): void | typeof NEEDS_VERIFY {
    const moves = this.challenge.movements;
    const lm = obs.landmarks;
    if (s.phase === 'start') {
      if (!lm || obs.subjects !== 1) {
        s.hint = lm ? HINTS.oneFace : HINTS.oval;
        return;
      }
      if (obs.issues.includes('FACE_TOO_SMALL') || obs.issues.includes('FACE_CLOSE_TO_BORDER')) {
        s.hint = obs.issues.includes('FACE_TOO_SMALL') ? HINTS.closer : HINTS.oval;
        return;
      }
      // The baseline's absolute pose counts (nextPurpose asks for it); a frame located without one is looked at again.
      if (obs.yaw === null || obs.pitch === null) return NEEDS_VERIFY;
      const off = noseOffset(lm);
      if (Math.abs(obs.yaw) > this.rules.startMaxYaw || Math.abs(off.x) > this.rules.startMaxOffset) {
        s.hint = HINTS.start;
        return;
      }
      const eyes = eyesOnOutline(lm);
      s.baseline = { landmarks: lm.map((p) => [p[0], p[1]] as Point), x: off.x, y: off.y, ex: eyes.x, ey: eyes.y, yaw: obs.yaw, pitch: obs.pitch };
      this.trackFace(s, obs.t, lm);
      s.phase = 'steps';
      s.hint = HINTS.turn(moves[0]);
      s.details.baselineFrame = index;
      return;
    }

    if (obs.subjects > 1) return this.fail(s, 'MULTIPLE_FACES');
    if (!lm) {
      if (obs.t - s.lastFace!.t > this.rules.maxLostMs) return this.fail(s, 'FACE_LOST');
      s.hint = HINTS.oval;
      return;
    }
    if (!this.continuous(s, obs.t, lm)) return this.fail(s, 'FACE_JUMP');
    this.trackFace(s, obs.t, lm);

    const b = s.baseline!;
    const off = noseOffset(lm);
    const eyes = eyesOnOutline(lm);
    const current = s.phase === 'steps' ? moves[s.stepIndex] : null;
    if (obs.yaw === null || obs.pitch === null) {
      // Located without pose: enough to follow the head between targets. A frame that may decide is analysed again
      // with 'verify', which brings the pose and the embedding a deciding frame needs at once.
      const shift: Delta = { x: off.x - b.x, y: off.y - b.y, yaw: 0, pitch: 0, ex: eyes.x - b.ex, ey: eyes.y - b.ey };
      if (this.mayDecide(s, shift)) return NEEDS_VERIFY;
      return this.underway(s, current, shift);
    }
    const d: Delta = { x: off.x - b.x, y: off.y - b.y, yaw: obs.yaw - b.yaw, pitch: obs.pitch - b.pitch, ex: eyes.x - b.ex, ey: eyes.y - b.ey };
    const done = current !== null && this.reached(current, d);
    // Order is the order of first occurrences: a movement not asked for yet, made in full, fails; a completed one
    // may recur (a head still tipped up while it turns). Diagonal frames count for the axis that leads.
    const wrong = done ? undefined : MOVEMENTS.find((m) => m !== current && !s.completed.includes(m) && this.reached(m, d, true));
    if (wrong) {
      s.details.wrongMovement = wrong;
      return this.fail(s, 'WRONG_MOVEMENT', current);
    }

    if (current) {
      if (!done) return this.underway(s, current, d);
      // Three-dimensional consistency: the nose leaves the plane of the brows and eyes, and the eyes move on the
      // outline as the whole head rotates.
      const a = along(current, d);
      const parallax = noseParallax(b.landmarks, lm) / Math.hypot(d.x, d.y);
      const rotation = a.eyes / a.offset;
      if (parallax < this.rules.minParallaxRatio || rotation < this.rules.minRotationRatio) {
        s.flat++;
        s.details[`flat${s.stepIndex + 1}`] = `${round(parallax, 2)}/${round(rotation, 2)}`;
        if (s.flat >= this.rules.maxFlatFrames) return this.fail(s, 'NOT_THREE_DIMENSIONAL');
        s.hint = HINTS.further(current);
        return;
      }
      if (!obs.embedding) return NEEDS_VERIFY;
      if (!this.addEvidence(s, obs, index, 'step')) return;
      s.details[`step${s.stepIndex + 1}`] = `${round(parallax, 2)}/${round(rotation, 2)}`;
      s.completed.push(current);
      s.best = 0;
      s.flat = 0;
      s.stepIndex++;
      s.phase = s.stepIndex < moves.length ? 'steps' : 'return';
      s.hint = s.phase === 'steps' ? HINTS.turn(moves[s.stepIndex]) : HINTS.return;
      return;
    }

    // Back to frontal: the final frames carry the passive liveness and the template match.
    if (!this.frontal(d)) return this.underway(s, null, d);
    if (!obs.embedding) return NEEDS_VERIFY;
    if (!this.addEvidence(s, obs, index, 'final')) return;
    s.finalTries++;
    const frontal = s.evidence.filter((e) => e.kind === 'final');
    const liveness = frontal.reduce((sum, e) => sum + e.liveness, 0) / frontal.length;
    const live = liveness >= this.opts.livenessThreshold;
    const match = this.opts.compare ? frontal.map((e) => this.opts.compare!(e.embedding)).reduce((a, c) => (c.similarity > a.similarity ? c : a)) : null;
    s.details.liveness = round(liveness);
    s.details.similarity = match ? round(match.similarity) : null;
    if (live && (!match || match.match)) {
      s.phase = 'done';
      s.hint = HINTS.passed;
      return;
    }
    s.finalFailure = live ? 'NO_MATCH' : 'LIVENESS_FAILED';
    if (s.finalTries >= this.rules.finalAttempts) return this.fail(s, s.finalFailure);
    s.hint = HINTS.hold;
  }

  /**
   * Whether the landmarks alone leave a frame's verdict open: a movement not completed yet reached its offset
   * target (the step done, or a wrong movement, once the pose confirms it), or frontal again after the steps.
   * Every other frame changes only the hint (`underway`), whatever its pose.
   */
  private mayDecide(s: State, d: Delta): boolean {
    const r = this.rules;
    if (s.phase === 'return' && Math.abs(d.x) <= r.frontalOffset && Math.abs(d.y) <= r.frontalOffset) return true;
    return MOVEMENTS.some((m) => !s.completed.includes(m) && along(m, d).offset >= this.targets(m).offset);
  }

  /** A frame on the way: how far the current step got ("turn further"), or the way back to frontal. */
  private underway(s: State, current: Movement | null, d: Delta): void {
    if (!current) {
      s.hint = HINTS.return;
      return;
    }
    s.best = Math.max(s.best, along(current, d).offset / this.targets(current).offset);
    s.hint = s.best >= 0.3 ? HINTS.further(current) : HINTS.turn(current);
  }

  private trackFace(s: State, t: number, lm: Point[]): void {
    const f = eyeFrame(lm);
    s.lastFace = { t, x: f.centre[0], y: f.centre[1], size: faceSize(lm) };
  }

  /** No jump in face position or size between consecutive face frames beyond what head motion explains. */
  private continuous(s: State, t: number, lm: Point[]): boolean {
    const prev = s.lastFace;
    if (!prev) return true;
    const f = eyeFrame(lm);
    const size = faceSize(lm);
    const move = Math.hypot(f.centre[0] - prev.x, f.centre[1] - prev.y) / Math.max(prev.size, size);
    const allowed = this.rules.maxJump + (this.rules.maxJumpPerSecond * (t - prev.t)) / 1000;
    const scale = Math.max(size / prev.size, prev.size / size);
    s.details.maxJump = Math.max(Number(s.details.maxJump ?? 0), round(move / allowed));
    return move <= allowed && scale <= this.rules.maxScaleJump;
  }
}

export interface SerializedVerifier {
  v: 1;
  challenge: Challenge;
  state: Omit<State, 'evidence'> & { evidence: (Omit<Evidence, 'embedding'> & { embedding: string })[] };
}
