import { createHash } from 'node:crypto';
import type { Analysis, DetectedFace, FaceEngine, Lane } from '../face/index.js';
import { observeAnalysis } from './observe.js';
import type { Challenge, Decision, FramePurpose, FrameRefusal, Progress } from './types.js';
import { ChallengeVerifier, NEEDS_VERIFY, type SerializedVerifier, type VerifierOptions } from './verifier.js';

/**
 * Analyses one frame for a purpose; `engineAnalyzer` adapts the face engine. `detections` are the faces an earlier
 * analysis of the same frame found: a frame analysed again need not run the detector again.
 */
export type FrameAnalyzer = (image: Uint8Array, purpose: FramePurpose, detections?: DetectedFace[]) => Promise<Analysis>;

/**
 * The face engine as a frame analyzer: 'locate' (detection, landmarks), 'turn' (also pose and embedding) or
 * 'verify' (also liveness), in the engine's `lane` (sign-in frames from anyone use 'anonymous', so they cannot crowd
 * out the rest). A frame of the stream never takes a second idle worker: at four frames a second nobody waits for
 * its latency, and the CPU per challenge is the figure that counts.
 */
export function engineAnalyzer(engine: Pick<FaceEngine, 'analyze'>, lane: Lane = 'trusted'): FrameAnalyzer {
  return (image, purpose, detections) => engine.analyze(image, purpose, { lane, shareIdle: false, ...(detections && { detections }) });
}

export interface SessionOptions extends VerifierOptions {
  analyze: FrameAnalyzer;
  /**
   * The server's clock, read when a frame's answer is ready: the client's pause before the next frame is measured
   * from it. Default Date.now; the offline evaluation answers at once, at the frame's own time.
   */
  clock?: () => number;
}

export interface FrameResult {
  /** Whether the frame was analysed; a refused frame changes nothing (unless the refusal ended the challenge). */
  accepted: boolean;
  refusal: FrameRefusal | null;
  /** The decision will rest on this frame (a step or final frame): the one to fingerprint for replay screening. */
  evidence: boolean;
  progress: Progress;
}

/**
 * Drives a ChallengeVerifier with JPEG frames: admits each frame (timing, repeats), analyses it with the purpose
 * it needs — 'locate' for most frames, 'turn' or 'verify' again for the few that may decide — and reports progress.
 * Frames pushed concurrently are judged one after the other, in the order they were pushed. Engine errors
 * (FaceError: not an image, too large, overloaded) propagate and leave the challenge unchanged.
 */
export class ChallengeSession {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly verifier: ChallengeVerifier,
    private readonly analyze: FrameAnalyzer,
    private readonly clock: () => number,
  ) {}

  static start(challenge: Challenge, opts: SessionOptions): ChallengeSession {
    return new ChallengeSession(new ChallengeVerifier(challenge, opts), opts.analyze, opts.clock ?? Date.now);
  }

  /** Continues a challenge from `toJSON()` (e.g. stored in Redis between frames that reach different instances). */
  static resume(state: SerializedVerifier, opts: SessionOptions): ChallengeSession {
    return new ChallengeSession(ChallengeVerifier.fromJSON(state, opts), opts.analyze, opts.clock ?? Date.now);
  }

  get challenge(): Challenge {
    return this.verifier.challenge;
  }

  /** `t` is the server's clock when the frame arrived (ms), never a time the client sent. */
  push(image: Uint8Array, t: number): Promise<FrameResult> {
    const run = this.queue.then(() => this.judge(image, t));
    this.queue = run.catch(() => undefined);
    return run;
  }

  progress(): Progress {
    return this.verifier.progress();
  }

  /** Decides now: call when the time is up or no more frames will come; a decided challenge keeps its decision. */
  finish(t: number): Decision {
    return this.verifier.finish(t);
  }

  get finished(): boolean {
    return this.verifier.finished;
  }

  toJSON(): SerializedVerifier {
    return this.verifier.toJSON();
  }

  private async judge(image: Uint8Array, t: number): Promise<FrameResult> {
    const v = this.verifier;
    const started = performance.now();
    const sha256 = createHash('sha256').update(image).digest('hex');
    const refusal = v.admit(t, sha256);
    if (refusal) return { accepted: false, refusal, evidence: false, progress: v.progress(t) };
    const evidenceBefore = v.digests().evidence.length;
    let own = performance.now() - started;

    let purpose = v.nextPurpose;
    let detections: DetectedFace[] | undefined;
    for (;;) {
      const analysis = await this.analyze(image, purpose, detections);
      detections = analysis.faces;
      const t0 = performance.now();
      const result = v.observe(observeAnalysis(analysis, purpose, t, sha256));
      own += performance.now() - t0;
      v.account(purpose, (analysis.timings.total ?? 0) + own);
      own = 0;
      if (result !== NEEDS_VERIFY) {
        v.answered(this.clock());
        return { accepted: true, refusal: null, evidence: v.digests().evidence.length > evidenceBefore, progress: result };
      }
      // A deciding analysis of a frame with a face has all the verifier asks for.
      if (purpose === v.decidingPurpose) throw new Error(`the face engine's '${purpose}' analysis lacks what the verifier needs`);
      purpose = v.decidingPurpose;
    }
  }
}
