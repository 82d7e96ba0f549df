import { cosine, type CompareResult } from '../face/index.js';
import {
  along,
  atRest,
  cameBack,
  continuity,
  facePlace,
  isSideways,
  lookingStraight,
  mainlyAlong,
  movingInto,
  nearDuplicate,
  nodAngle,
  pacing,
  progress as progressAlong,
  strayMovement,
  targets,
  threeDimensional,
  travelFrames,
  type Delta,
  type FacePlace,
  type TrackPoint,
} from './checks.js';
import { eyesOnOutline, mouthDrop, noseOffset, type Point } from './geometry.js';
import { failureMessage, HINTS } from './guidance.js';
import { DEFAULT_RULES, type ChallengeRules } from './rules.js';
import type { Challenge, Decision, FailureCode, FramePurpose, FrameRefusal, Movement, Observation, Progress } from './types.js';

export interface VerifierOptions {
  /** p(live) threshold of the engine; every final frame must reach it. */
  livenessThreshold: number;
  /** The account's templates. Without it (offline evaluation) the match is not checked. */
  compare?: (embedding: Float32Array) => CompareResult;
  rules?: Partial<ChallengeRules>;
  /** Keep a per-frame trace of the measures and verdicts (`liveness-eval --explain`). */
  explain?: boolean;
}

type Phase = 'start' | 'steps' | 'return' | 'done';

interface Evidence {
  index: number;
  kind: 'baseline' | 'step' | 'final';
  embedding: Float32Array;
  liveness: number;
  sha256: string;
}

/** The person's rest pose: the baseline frame's landmarks and measures. */
interface Rest {
  landmarks: Point[];
  x: number;
  y: number;
  ex: number;
  ey: number;
  /** `mouthDrop` of the rest pose: a nod's foreshortening is measured against it. */
  drop: number;
  yaw: number;
  pitch: number;
}

/** One attempt at the current movement, from a frame at rest: the progress of every counted frame, in order. */
interface Attempt {
  track: TrackPoint[];
  /** The frame that reached the target and passed the pose, 3-D and identity checks (its evidence is kept). */
  reached: number | null;
  /** Deciding frames analysed for this attempt, 3-D failures included. */
  verified: number;
  /** Offsets (x, y) of the attempt's frames: where the next movement's attempt comes from. */
  path: [number, number][];
}

/** One line of `--explain`. */
export interface TraceLine {
  index: number;
  t: number;
  purpose: FramePurpose;
  x: number | null;
  y: number | null;
  yaw: number | null;
  pitch: number | null;
  /** Progress along the current movement (target units) and travel frames so far, out/back. */
  progress: number | null;
  travel: string | null;
  note: string;
}

interface State {
  phase: Phase;
  frames: number;
  lastT: number | null;
  /** Server time of the answer to the previous frame (the client's pause is measured from it). */
  answeredT: number | null;
  lastSha: string | null;
  /** The client paused too long before this frame: the movement under way starts over. */
  restartPending: boolean;
  digests: string[];
  analysed: Record<FramePurpose, number>;
  cpuMs: number;
  rest: Rest | null;
  baselineMisses: number;
  stepIndex: number;
  completed: Movement[];
  attempt: Attempt | null;
  /** Face dHashes of the frames of every completed movement: a later movement cannot reuse those pictures. */
  counted: string[];
  /** Best progress towards the current movement's target (for "turn further"). */
  best: number;
  /** The farthest the last movement went (progress), once the steps are done: the return is judged against it. */
  lastPeak: number;
  /** Frames that reached a target without moving like a head, in the current step. */
  flat: number;
  /** A movement not asked for, and for how many frames in a row it clearly showed. */
  stray: { movement: Movement; frames: number } | null;
  /** Nose offset (from the rest pose) of the last frame judged after the baseline. */
  lastOffset: [number, number] | null;
  lastFace: FacePlace | null;
  restarts: number;
  finalFailure: 'LIVENESS_FAILED' | 'NO_MATCH' | 'IDENTITY_CHANGED' | null;
  finalTries: number;
  evidence: Evidence[];
  hint: string;
  failure: { code: FailureCode; message: string } | null;
  details: Record<string, number | string | boolean | null>;
  trace: TraceLine[] | null;
}

/** The observation cannot be judged without an embedding: analyse the same frame with `decidingPurpose` and observe again. */
export const NEEDS_VERIFY = Symbol('needs verify');

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Incremental verifier of one challenge: frames arrive one at a time with server timestamps, and each answer says
 * where the person is. The live path and the offline evaluation both drive it through `ChallengeSession`; it holds
 * no I/O and its state survives `toJSON`/`fromJSON`, so consecutive frames may be judged by different instances.
 *
 * A frontal baseline that matches the account sets the rest pose. Each movement is then seen travelling: an attempt
 * starts from a frame at rest for it, passes through intermediate poses and reaches the target in landmarks and in
 * fr_pose, in three dimensions, with the same face; a long pause, a jump of the face or a lost face start the attempt
 * over. A movement not asked for fails the challenge only when it clearly dominates for several frames. At the end
 * the person looks at the camera again, near their rest pose, and the final frames must each be live and match the
 * account and each other. The checks themselves are in checks.ts, one rule per function.
 */
export class ChallengeVerifier {
  readonly rules: ChallengeRules;
  private s: State;
  private needs: FramePurpose = 'turn';

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
      answeredT: null,
      lastSha: null,
      restartPending: false,
      digests: [],
      analysed: { locate: 0, turn: 0, verify: 0 },
      cpuMs: 0,
      rest: null,
      baselineMisses: 0,
      stepIndex: 0,
      completed: [],
      attempt: null,
      counted: [],
      best: 0,
      lastPeak: 0,
      flat: 0,
      stray: null,
      lastOffset: null,
      lastFace: null,
      restarts: 0,
      finalFailure: null,
      finalTries: 0,
      evidence: [],
      hint: HINTS.start,
      failure: null,
      details: {},
      trace: opts.explain ? [] : null,
    };
  }

  get finished(): boolean {
    return this.s.phase === 'done';
  }

  /**
   * The baseline needs the pose and the embedding ('turn'); after it frames are only located ('locate'), and
   * `observe` asks for `decidingPurpose` on the few whose landmarks say they may decide.
   */
  get nextPurpose(): FramePurpose {
    return this.s.phase === 'start' ? 'turn' : 'locate';
  }

  /**
   * The analysis `observe` asked for when it last answered NEEDS_VERIFY: pose and embedding ('turn') for a frame that
   * may reach a target, and also passive liveness ('verify') for a final look, the only frames liveness decides
   * (among them a frame that completes the last movement on its way back, already at rest).
   */
  get decidingPurpose(): FramePurpose {
    return this.needs;
  }

  /**
   * Timing and replay checks before a frame is analysed. Non-fatal refusals leave the challenge as it was; an
   * expired challenge, a frame repeated from earlier, a stopped camera or too many frames fail it (returned as
   * CHALLENGE_FINISHED).
   */
  admit(t: number, sha256: string): FrameRefusal | null {
    const s = this.s;
    if (s.phase === 'done') return 'CHALLENGE_FINISHED';
    if (!Number.isFinite(t) || t < this.challenge.createdAt || (s.lastT !== null && t < s.lastT)) return 'OUT_OF_ORDER';
    if (s.lastT !== null && t - s.lastT < this.rules.minFrameIntervalMs) return 'TOO_FAST';
    // A stalled camera: skipped, not held against the person.
    if (sha256 === s.lastSha) return 'STALLED';
    const pace = s.lastT === null ? 'steady' : pacing(t - (s.answeredT ?? s.lastT), this.rules);
    const fatal: FailureCode | null =
      t > this.challenge.expiresAt
        ? s.phase === 'start'
          ? 'CHALLENGE_EXPIRED'
          : this.unfinished(s, t)
        : s.digests.includes(sha256)
          ? 'REPEATED_FRAME'
          : pace === 'broken'
            ? 'FRAME_GAP'
            : s.frames >= this.rules.maxFrames
              ? 'TOO_MANY_FRAMES'
              : null;
    if (fatal) {
      this.fail(s, fatal, this.currentMovement(s));
      return 'CHALLENGE_FINISHED';
    }
    s.restartPending = pace === 'restart';
    return null;
  }

  /** The server answered the last frame at `t`: the client's pause before the next one is measured from here. */
  answered(t: number): void {
    this.s.answeredT = t;
  }

  /** Engine time of one analysis (counted even when the frame is then analysed again to decide). */
  account(purpose: FramePurpose, ms: number): void {
    this.s.analysed[purpose] = (this.s.analysed[purpose] ?? 0) + 1;
    this.s.cpuMs += ms;
  }

  /** Judges one admitted frame. Returns NEEDS_VERIFY, without changing anything, when it needs an embedding. */
  observe(obs: Observation): Progress | typeof NEEDS_VERIFY {
    if (this.s.phase === 'done') return this.progress(obs.t);
    const s = this.s;
    const draft: State = {
      ...s,
      digests: [...s.digests, obs.sha256],
      evidence: [...s.evidence],
      completed: [...s.completed],
      counted: [...s.counted],
      attempt: s.attempt && { ...s.attempt, track: [...s.attempt.track] },
      details: { ...s.details },
      trace: s.trace && [...s.trace],
    };
    const index = draft.frames;
    draft.frames++;
    draft.lastT = obs.t;
    draft.lastSha = obs.sha256;
    const line: TraceLine = { index, t: obs.t, purpose: obs.purpose, x: null, y: null, yaw: obs.yaw, pitch: obs.pitch, progress: null, travel: null, note: '' };
    if (this.judge(draft, obs, index, line) === NEEDS_VERIFY) {
      this.needs = draft.phase === 'return' ? 'verify' : 'turn';
      return NEEDS_VERIFY;
    }
    draft.restartPending = false;
    if (draft.trace) draft.trace.push({ ...line, note: line.note || (draft.failure ? draft.failure.code : '') });
    this.s = draft;
    return this.progress(obs.t);
  }

  /** Ends the challenge when no more frames will come (time is up, or the offline clip ended). */
  finish(t: number): Decision {
    const s = this.s;
    if (s.phase !== 'done') this.fail(s, this.unfinished(s, t), this.currentMovement(s));
    return this.decision();
  }

  progress(t = this.s.lastT ?? this.challenge.createdAt): Progress {
    const s = this.s;
    const passed = s.phase === 'done' && !s.failure;
    return {
      status: s.phase === 'done' ? (passed ? 'passed' : 'failed') : s.phase === 'start' ? 'waiting' : 'in_progress',
      step: s.phase === 'done' ? 'done' : s.phase === 'steps' ? this.challenge.movements[s.stepIndex] : 'frontal',
      stepIndex: s.stepIndex,
      completed: [...s.completed],
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

  /** The per-frame trace, when the verifier was built with `explain`. */
  trace(): TraceLine[] {
    return [...(this.s.trace ?? [])];
  }

  /** SHA-256 of every accepted frame, and of the evidence frames, for replay screening across sign-ins. */
  digests(): { all: string[]; evidence: string[] } {
    return { all: [...this.s.digests], evidence: this.s.evidence.map((e) => e.sha256) };
  }

  toJSON(): SerializedVerifier {
    const { evidence, ...rest } = this.s;
    return {
      v: STATE_VERSION,
      challenge: this.challenge,
      state: { ...rest, evidence: evidence.map((e) => ({ ...e, embedding: Buffer.from(e.embedding.buffer, e.embedding.byteOffset, e.embedding.byteLength).toString('base64') })) },
    };
  }

  /** Throws a TypeError for a state this version cannot continue (e.g. stored by an older release). */
  static fromJSON(json: SerializedVerifier, opts: VerifierOptions): ChallengeVerifier {
    if (!isCurrentState(json)) throw new TypeError('unknown challenge verifier state');
    const evidence = json.state.evidence.map((e) => {
      const bytes = Buffer.from(e.embedding, 'base64');
      return { ...e, embedding: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    });
    return new ChallengeVerifier(json.challenge, opts, { ...json.state, evidence });
  }

  /**
   * Why a challenge that ends unfinished at `t` fails: where it stood, so that a person who did not turn far enough
   * reads "Turn further", one who never came back "Finish by looking straight at the camera", and the console counts
   * a script stuck at a target as such rather than as a timeout. Time is up only for a step barely begun.
   */
  private unfinished(s: State, t: number): FailureCode {
    switch (s.phase) {
      case 'start':
        return s.baselineMisses > 0 ? 'NO_MATCH' : 'NOT_FRONTAL';
      case 'return':
        return s.finalFailure ?? 'NO_RETURN';
      default:
        return t >= this.challenge.expiresAt && s.best < 0.3 ? 'CHALLENGE_EXPIRED' : 'TARGET_NOT_REACHED';
    }
  }

  private currentMovement(s: State): Movement | null {
    return s.phase === 'steps' ? this.challenge.movements[s.stepIndex] : null;
  }

  private fail(s: State, code: FailureCode, step: Movement | null = null): void {
    s.phase = 'done';
    s.failure = { code, message: failureMessage(code, step) };
    s.hint = s.failure.message;
  }

  private delta(lm: Point[], obs: Observation): Delta {
    const r = this.s.rest!;
    const off = noseOffset(lm);
    const eyes = eyesOnOutline(lm);
    return {
      x: off.x - r.x,
      y: off.y - r.y,
      yaw: obs.yaw === null ? NaN : obs.yaw - r.yaw,
      pitch: obs.pitch === null ? NaN : obs.pitch - r.pitch,
      ex: eyes.x - r.ex,
      ey: eyes.y - r.ey,
      nod: nodAngle(mouthDrop(lm), r.drop),
    };
  }

  private judge(s: State, obs: Observation, index: number, line: TraceLine): void | typeof NEEDS_VERIFY {
    if (s.phase === 'start') return this.judgeStart(s, obs, index, line);

    if (obs.subjects > 1) return this.fail(s, 'MULTIPLE_FACES', this.currentMovement(s));
    const lm = obs.landmarks;
    if (!lm) {
      if (obs.t - s.lastFace!.t > this.rules.maxLostMs) return this.fail(s, 'FACE_LOST', this.currentMovement(s));
      s.hint = HINTS.oval;
      line.note = 'no face';
      return;
    }
    const place = facePlace(obs.t, lm);
    const cont = continuity(s.lastFace!, place, this.rules);
    s.details.maxJump = Math.max(Number(s.details.maxJump ?? 0), round(cont.ratio, 2));
    if (cont.verdict === 'broken') return this.fail(s, 'FACE_JUMP', this.currentMovement(s));
    if (cont.verdict === 'restart' || s.restartPending) {
      this.restart(s, cont.verdict === 'restart' ? 'jump' : 'pause');
      line.note = cont.verdict === 'restart' ? 'restart: jump' : 'restart: pause';
    }
    s.lastFace = place;

    const d = this.delta(lm, obs);
    line.x = round(d.x);
    line.y = round(d.y);
    const prev = s.lastOffset;
    s.lastOffset = [d.x, d.y];
    if (s.phase === 'steps') return this.judgeStep(s, obs, index, d, prev, line);
    return this.judgeReturn(s, obs, index, d, line);
  }

  /** The baseline: one frontal, framed face that matches the account; its pose is the person's rest pose. */
  private judgeStart(s: State, obs: Observation, index: number, line: TraceLine): void | typeof NEEDS_VERIFY {
    const lm = obs.landmarks;
    if (!lm || obs.subjects !== 1) {
      s.hint = lm ? HINTS.oneFace : HINTS.oval;
      line.note = lm ? 'more than one face' : 'no face';
      return;
    }
    if (obs.issues.includes('FACE_TOO_SMALL') || obs.issues.includes('FACE_CLOSE_TO_BORDER')) {
      s.hint = obs.issues.includes('FACE_TOO_SMALL') ? HINTS.closer : HINTS.oval;
      line.note = obs.issues.join(' ');
      return;
    }
    if (obs.yaw === null || obs.pitch === null) return NEEDS_VERIFY;
    const off = noseOffset(lm);
    line.x = round(off.x);
    line.y = round(off.y);
    if (!lookingStraight(off.x, obs.yaw, this.rules)) {
      s.hint = HINTS.start;
      line.note = 'not frontal';
      return;
    }
    if (!obs.embedding) return NEEDS_VERIFY;
    // The baseline is compared with the account: every later frame is tied to it.
    const match = this.opts.compare?.(obs.embedding);
    if (match && !match.match) {
      s.baselineMisses++;
      line.note = 'baseline: no match';
      if (s.baselineMisses >= this.rules.baselineAttempts) return this.fail(s, 'NO_MATCH');
      s.hint = HINTS.hold;
      return;
    }
    const eyes = eyesOnOutline(lm);
    s.rest = { landmarks: lm.map((p) => [p[0], p[1]] as Point), x: off.x, y: off.y, ex: eyes.x, ey: eyes.y, drop: mouthDrop(lm), yaw: obs.yaw, pitch: obs.pitch };
    s.evidence.push({ index, kind: 'baseline', embedding: obs.embedding, liveness: obs.liveness?.score ?? 0, sha256: obs.sha256 });
    s.lastFace = facePlace(obs.t, lm);
    // The baseline is at rest: the first movement's attempt starts from it.
    s.attempt = { track: [{ p: 0, dhash: null }], reached: null, verified: 0, path: [] };
    s.phase = 'steps';
    s.hint = HINTS.turn(this.challenge.movements[0]);
    s.details.baselineFrame = index;
    line.note = 'baseline';
  }

  private judgeStep(s: State, obs: Observation, index: number, d: Delta, prev: [number, number] | null, line: TraceLine): void | typeof NEEDS_VERIFY {
    const m = this.challenge.movements[s.stepIndex];
    const p = progressAlong(m, d, this.rules);
    line.progress = round(p, 2);

    // A movement not asked for, clearly and for several frames in a row, fails; a glance or a turn's drift does not,
    // nor does that drift tailing off on the way back (a run of stray frames starts where the head moves into it).
    const stray = strayMovement(d, m, s.completed, this.rules);
    const continues = stray !== null && s.stray?.movement === stray;
    const counts = stray !== null && (continues || prev === null || movingInto(stray, { x: prev[0], y: prev[1] }, d, this.rules));
    s.stray = stray && counts ? { movement: stray, frames: continues ? s.stray!.frames + 1 : 1 } : null;
    if (s.stray && s.stray.frames >= this.rules.wrongFrames) {
      s.details.wrongMovement = s.stray.movement;
      return this.fail(s, 'WRONG_MOVEMENT', m);
    }

    // Attempts start at rest; one that falls back to rest before it counts starts over from there.
    if (!s.attempt || (p <= this.rules.restProgress && s.attempt.track.length > 1)) {
      if (p > this.rules.restProgress) {
        line.note = 'waiting for rest';
        return this.underway(s, m, p);
      }
      // Fell back before it counted: a restart only if it had left the rest pose.
      if (s.attempt && Math.max(...s.attempt.track.map((x) => x.p)) > this.rules.restProgress) this.restart(s, 'fell back');
      s.attempt = { track: [{ p, dhash: obs.dhash }], reached: null, verified: 0, path: [] };
      return this.underway(s, m, p);
    }
    const a = s.attempt;
    // A picture already counted (re-saved, shifted) brings no progress.
    if (nearDuplicate(obs.dhash, s.counted)) {
      line.note = 'near-duplicate';
      return this.underway(s, m, p);
    }

    const t = targets(m, this.rules);
    // A frame that reaches the target as a side effect of another movement (a turn's pitch drift) is no frame of this
    // one: its 3-D measures along this axis mean nothing, so it is neither judged nor held against the person.
    if (a.reached === null && p >= 1 && mainlyAlong(m, d, this.rules) && a.verified < this.rules.maxFlatFrames + 2) {
      if (obs.yaw === null || obs.pitch === null || !obs.embedding) return NEEDS_VERIFY;
      a.verified++;
      const degrees = along(m, d).degrees;
      const solid = threeDimensional(s.rest!.landmarks, obs.landmarks!, m, d, this.rules);
      line.note = `target? ${round(degrees, 1)}° 3-D ${round(solid.parallax, 2)}/${round(solid.rotation, 2)}`;
      if (degrees >= t.degrees) {
        if (!solid.ok && Math.hypot(d.x, d.y) < this.rules.minSolidOffset) {
          // Too small a change for the 3-D measures to rise above landmark noise: a later frame of the turn decides.
          line.note += ' (too small to judge)';
        } else if (!solid.ok) {
          s.flat++;
          s.details[`flat${s.stepIndex + 1}`] = `${round(solid.parallax, 2)}/${round(solid.rotation, 2)}`;
          if (s.flat >= this.rules.maxFlatFrames) return this.fail(s, 'NOT_THREE_DIMENSIONAL', m);
        } else {
          // Whose face turned is checked against the final frames (judgeReturn): a face turned 40° and the same face
          // frontal are further apart than two frontal frames, so the frontal baseline is no yardstick here.
          a.reached = index;
          s.evidence.push({ index, kind: 'step', embedding: obs.embedding, liveness: obs.liveness?.score ?? 0, sha256: obs.sha256 });
          s.details[`step${s.stepIndex + 1}`] = `${round(degrees, 1)}°/${round(solid.parallax, 2)}/${round(solid.rotation, 2)}`;
        }
      }
    }
    a.path.push([round(d.x), round(d.y)]);
    a.track.push({ p, dhash: obs.dhash, ...(isSideways(m) ? {} : { nod: d.nod }) });
    const travel = travelFrames(a.track, this.rules);
    line.travel = `${travel.out}/${travel.back}`;
    // Seen travelling: two intermediate poses, out to the target or on the way back (or on to the next movement).
    if (a.reached === null || travel.out + travel.back < this.rules.minTravelFrames) return this.underway(s, m, p);
    this.complete(s, m, index);
    // The frame that completes the last movement on the way back may already be back at rest: the first final look.
    if (s.phase === 'return') return this.judgeReturn(s, obs, index, d, line);
  }

  /**
   * The current movement counts: on to the next one, or to the return. The next movement's attempt starts from the
   * rest pose this one left, with this one's frames: people often go from one movement to the next without stopping
   * at rest (a sweep, or up and then across to the side), and a diagonal shows both at once.
   */
  private complete(s: State, m: Movement, index: number): void {
    const done = s.attempt!;
    s.counted.push(...done.track.flatMap((x) => (x.dhash ? [x.dhash] : [])));
    s.completed.push(m);
    s.details[`done${s.stepIndex + 1}`] = index;
    s.stepIndex++;
    const next = this.challenge.movements[s.stepIndex];
    s.attempt = next ? { track: [{ p: 0, dhash: null }, ...done.path.map(([x, y]) => ({ p: progressAlong(next, { x, y }, this.rules), dhash: null }))], reached: null, verified: 0, path: [] } : null;
    s.best = 0;
    s.lastPeak = Math.max(...done.track.map((x) => x.p));
    s.flat = 0;
    s.stray = null;
    s.phase = s.stepIndex < this.challenge.movements.length ? 'steps' : 'return';
    s.hint = s.phase === 'steps' ? HINTS.turn(this.challenge.movements[s.stepIndex]) : HINTS.return;
  }

  /**
   * Back at rest: the final frames carry the decision. Each must be live, match the account and the frames that
   * turned, and agree with the other final frames; a frame that does not is followed by another look.
   */
  private judgeReturn(s: State, obs: Observation, index: number, d: Delta, line: TraceLine): void | typeof NEEDS_VERIFY {
    const back = progressAlong(this.challenge.movements.at(-1)!, d, this.rules);
    s.lastPeak = Math.max(s.lastPeak, back);
    line.progress = round(back, 2);
    // Asked to look straight at the camera, a person whose rest pose was a little turned may come back to frontal.
    const r = s.rest!;
    const rest = lookingStraight(r.x + d.x, obs.yaw, this.rules) ? { ...d, x: 0, yaw: 0 } : d;
    if (!atRest({ x: rest.x, y: rest.y }, this.rules) || !cameBack(back, s.lastPeak, this.rules)) {
      s.hint = HINTS.return;
      return;
    }
    if (obs.yaw === null || obs.pitch === null || !obs.embedding || !obs.liveness) return NEEDS_VERIFY;
    if (!atRest(rest, this.rules)) {
      s.hint = HINTS.return;
      line.note = 'not at rest in fr_pose';
      return;
    }
    s.finalTries++;
    const embedding = obs.embedding;
    const liveness = obs.liveness?.score ?? 0;
    const match = this.opts.compare?.(embedding) ?? null;
    const others = s.evidence.filter((e) => e.kind !== 'baseline');
    const continuity = Math.min(1, ...others.map((e) => cosine(e.embedding, embedding)));
    const finals = s.evidence.filter((e) => e.kind === 'final');
    const agreement = Math.min(1, ...finals.map((e) => cosine(e.embedding, embedding)));
    s.details.minContinuity = Math.min(Number(s.details.minContinuity ?? 1), round(continuity));
    s.details.liveness = Math.min(Number(s.details.liveness ?? 1), round(liveness));
    if (match) s.details.similarity = round(match.similarity);
    line.note = `final: live ${round(liveness, 2)} continuity ${round(continuity, 2)} agreement ${round(agreement, 2)}${match ? ` match ${match.match}` : ''}`;
    const failure =
      continuity < this.rules.minContinuity || agreement < this.rules.minFinalAgreement
        ? 'IDENTITY_CHANGED'
        : liveness < this.opts.livenessThreshold
          ? 'LIVENESS_FAILED'
          : match && !match.match
            ? 'NO_MATCH'
            : null;
    if (!failure) {
      s.evidence.push({ index, kind: 'final', embedding, liveness, sha256: obs.sha256 });
      if (finals.length + 1 >= this.rules.finalFrames) {
        s.phase = 'done';
        s.hint = HINTS.passed;
        return;
      }
    } else {
      s.finalFailure = failure;
    }
    if (s.finalTries >= this.rules.finalAttempts) return this.fail(s, s.finalFailure ?? 'LIVENESS_FAILED');
    s.hint = HINTS.hold;
  }

  /**
   * The movement under way starts over (a long pause, a jump of the face, or a fall back to rest): what came before
   * no longer counts. After a pause or a jump it starts again from the rest pose, so that the poses seen from here
   * on, out or back, can still make the movement.
   */
  private restart(s: State, why: string): void {
    if (!s.attempt) return;
    s.attempt = why === 'fell back' ? null : { track: [{ p: 0, dhash: null }], reached: null, verified: 0, path: [] };
    s.restarts++;
    s.details.restarts = s.restarts;
    s.details.lastRestart = why;
  }

  /** A frame on the way: how far the current step got ("turn further"). */
  private underway(s: State, m: Movement, p: number): void {
    s.best = Math.max(s.best, p);
    s.hint = s.best >= 0.3 ? HINTS.further(m) : HINTS.turn(m);
  }
}

const STATE_VERSION = 4;

export interface SerializedVerifier {
  v: typeof STATE_VERSION;
  challenge: Challenge;
  state: Omit<State, 'evidence'> & { evidence: (Omit<Evidence, 'embedding'> & { embedding: string })[] };
}

/** Whether `json` is a verifier state this release can continue. */
export function isCurrentState(json: unknown): json is SerializedVerifier {
  return (json as SerializedVerifier | null)?.v === STATE_VERSION;
}
