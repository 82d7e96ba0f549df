import type { Point } from './geometry.js';

/** Head movements from the user's point of view: `left` is the person's own left. */
export type Movement = 'left' | 'right' | 'up' | 'down';
export const MOVEMENTS: readonly Movement[] = ['left', 'right', 'up', 'down'];

export interface Challenge {
  /** Random, URL-safe; names the challenge in requests and audit records. */
  id: string;
  movements: Movement[];
  /** Server clock, ms since the epoch. */
  createdAt: number;
  expiresAt: number;
}

/** How an analysis was made: `track` (detection, 68 landmarks, pose) or `verify` (also embedding and liveness). */
export type FramePurpose = 'locate' | 'turn' | 'verify';

/** What the verifier reads from one frame; built from the face engine's analysis by `observeAnalysis`. */
export interface Observation {
  /** Server timestamp, ms. */
  t: number;
  /** SHA-256 of the frame's bytes, hex. */
  sha256: string;
  /** 64-bit dHash of the picture (hex): near-duplicates of frames already counted add no progress. */
  dhash: string | null;
  /** Faces comparable in size to the subject (the subject included); 0 when none was found. */
  subjects: number;
  /** The subject's 68 landmarks (image pixels), null without a face. */
  landmarks: Point[] | null;
  /** fr_pose degrees (yaw > 0: face turned towards the image's left; pitch > 0: face tipped up); null for 'locate'. */
  yaw: number | null;
  pitch: number | null;
  /** The engine's quality codes for the subject (framing, light, focus). */
  issues: string[];
  /** Present for `verify` analyses. */
  embedding: Float32Array | null;
  liveness: { score: number; live: boolean } | null;
  purpose: FramePurpose;
}

export type FailureCode =
  | 'CHALLENGE_EXPIRED'
  | 'NOT_FRONTAL'
  | 'FACE_LOST'
  | 'MULTIPLE_FACES'
  | 'FACE_JUMP'
  | 'IDENTITY_CHANGED'
  | 'WRONG_MOVEMENT'
  | 'TARGET_NOT_REACHED'
  | 'NOT_THREE_DIMENSIONAL'
  | 'NO_RETURN'
  | 'LIVENESS_FAILED'
  | 'NO_MATCH'
  | 'REPEATED_FRAME'
  | 'FRAME_GAP'
  | 'TOO_MANY_FRAMES';

/**
 * Refusals of a single frame: the frame is not analysed and the challenge goes on. STALLED: the same bytes as the
 * previous frame (a camera that stalls hands out its last picture again).
 */
export type FrameRefusal = 'TOO_FAST' | 'OUT_OF_ORDER' | 'STALLED' | 'CHALLENGE_FINISHED';

export type ChallengeStatus = 'waiting' | 'in_progress' | 'passed' | 'failed';

/** What the live page shows after each frame; never a score. */
export interface Progress {
  status: ChallengeStatus;
  /** The movement asked for now; `frontal` before the first and after the last; `done` once decided. */
  step: Movement | 'frontal' | 'done';
  /** Index into the challenge's movements of the current step (movements.length once all are done). */
  stepIndex: number;
  completed: Movement[];
  /** One short instruction for the user. */
  hint: string;
  /** Set once failed. */
  failure: { code: FailureCode; message: string } | null;
  /** Time left on the challenge at the last frame, ms. */
  remainingMs: number;
}

export interface Decision {
  passed: boolean;
  code: FailureCode | null;
  /** User-facing guidance; reveals no score. */
  message: string;
  challenge: Challenge;
  completed: Movement[];
  /** Frames accepted for analysis (each analysed once, and a few again), and the analyses made of each purpose. */
  frames: number;
  analysed: Record<FramePurpose, number>;
  /** Engine time of the analyses plus the verifier's own time, ms. */
  cpuMs: number;
  /** Frames the decision rests on (baseline, each step, final frontal), by index. */
  evidence: number[];
  /** For the audit trail; never shown to the user. */
  details: Record<string, number | string | boolean | null>;
}

/** Analyses that embedded the face ('turn' and 'verify'): the costly ones, made only where a frame may decide. */
export const embeddedAnalyses = (a: Decision['analysed']) => a.turn + a.verify;
