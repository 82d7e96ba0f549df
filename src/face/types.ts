import type { Admission, AdmitOptions } from './schedule.js';

/**
 * What an analysis is for; each purpose runs only the models it needs:
 * - `verify` (a sign-in or Face Match selfie, the probe): embedding, liveness, quality with pose and eyes;
 * - `enroll` (an enrolment or reference photo): mirror-averaged embedding and the stricter quality limits, no liveness;
 * - `match` (an identity document: its portrait): mirror-averaged embedding and quality, no liveness (a print is no
 *   live capture);
 * - `turn` (a challenge frame that may complete a movement, or its baseline): detection, 68 landmarks, five points,
 *   pose and embedding, no liveness or eye model (a face turned 40° is no subject for passive liveness, and nothing
 *   there asks whether the eyes are open);
 * - `locate` (a frame of a moving face between decisions): detection and landmarks only, no pose (`pose` is null)
 *   and only the framing checks of the quality (faces, size, margin).
 */
export type Purpose = 'verify' | 'enroll' | 'match' | 'turn' | 'locate';

/** Who asks for an analysis: anonymous sign-in traffic may fill only part of the engine's queue (see pool.ts). */
export type Lane = 'anonymous' | 'trusted';

export interface AnalyzeOptions {
  /** Default 'trusted'. */
  lane?: Lane;
  /**
   * Default true: a verification, enrolment or document analysis that finds two workers idle uses both, which
   * cuts its latency by a quarter for about a tenth more CPU (src/face/README.md). Frames of a stream, whose
   * latency nobody waits for, say false.
   */
  shareIdle?: boolean;
  /** The request's admission (`FaceEngine.admit`) reserving this analysis; without one it is admitted alone. */
  admission?: Admission;
  /**
   * The faces an earlier analysis of these very bytes found (its `faces`): the detector is not run again. A challenge
   * frame that may decide is analysed twice, first located, then with the models that decide.
   */
  detections?: DetectedFace[];
}

export type QualityCode =
  | 'FACE_NOT_FOUND'
  | 'MULTIPLE_FACES'
  | 'FACE_TOO_SMALL'
  | 'FACE_CLOSE_TO_BORDER'
  | 'FACE_ANGLE'
  | 'TOO_DARK'
  | 'TOO_BRIGHT'
  | 'BLURRY'
  | 'EYES_CLOSED'
  | 'IMAGE_TOO_LARGE'
  | 'UNSUPPORTED_IMAGE';

export interface QualityIssue {
  code: QualityCode;
  message: string;
}

/** Pixels in the EXIF-rotated image. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  box: Box;
  score: number;
}

export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

export interface ChosenFace extends DetectedFace {
  /** The 68 fr_landmark points (iBUG order, 0-based), image pixels. */
  landmarks68: [number, number][];
  /** Left eye, right eye, nose tip, left and right mouth corner (image left/right). */
  landmarks5: [number, number][];
  /**
   * Degrees. Yaw and pitch from fr_pose (yaw > 0: face turned towards the image's left); roll from the eye line
   * (> 0: clockwise). Null only for 'locate', which runs no pose model.
   */
  pose: Pose | null;
  /** p(open) of the more open eye, 0..1; absent for 'turn', which runs no eye model. */
  eyesOpen?: number;
  /** dHash of the face box (16 hex digits, src/face/fingerprint.ts): near-duplicate pictures of the face. */
  fingerprint: string;
}

export interface Analysis {
  /** After EXIF rotation. */
  width: number;
  height: number;
  /** All confident faces after NMS, highest score first. */
  faces: DetectedFace[];
  /**
   * The subject, one of `faces` (same box): the largest face by box area; faces within the detector's size jitter
   * of it (≥ 0.9 of its size) tie, and the one nearest the image centre wins (src/face/subject.ts).
   */
  face: ChosenFace | null;
  quality: { ok: boolean; issues: QualityIssue[]; metrics: Record<string, number> };
  /**
   * 512-d, L2-normalised: fr_feature's embedding of the aligned face; for a reference ('enroll', 'match') the mean
   * of it and its mirror's (src/face/recipe.ts). Null when no face was found and for 'locate'.
   */
  embedding: Float32Array | null;
  /** p(live); computed for 'verify' when a face was found. */
  liveness: { score: number; live: boolean } | null;
  /** What the embedding is, stored with a template: the engine's `recipeId` (`<modelId>+flip`) for a reference, its `modelId` for a probe. */
  modelId: string;
  /**
   * Milliseconds: decode, detect, landmarks, align, embed, liveness, quality (pose, eyes, metrics), total time on the
   * workers (summed over both when an analysis was shared), wall as the caller saw it (queueing included).
   */
  timings: Record<string, number>;
}

/** Quality thresholds; `enroll` overrides apply to the 'enroll' purpose (a template should be better than a login selfie). */
export interface QualityThresholds {
  /** Shorter side of the detection box, pixels. */
  minFaceSize: number;
  /**
   * A second face at least this fraction of the subject's size (sqrt of the box area) is comparable to it: it makes
   * a 'verify', 'enroll' or 'turn' image MULTIPLE_FACES; smaller ones are bystanders.
   */
  multiFaceMinRatio: number;
  /**
   * Smallest distance from any of the 68 landmarks (jaw line included) to the image edge, in inter-eye distances;
   * below it the face is cut off or touches the frame. Landmarks of a cut face are predicted beyond the edge (< 0).
   */
  minEdgeMargin: number;
  /** Degrees. fr_pose reads frontal press photos at pitch ≈ −10 (a model bias), so the pitch limit stays loose. */
  maxYaw: number;
  maxPitch: number;
  maxRoll: number;
  /** Mean luma (0..255) of the aligned face's inner region. */
  minBrightness: number;
  maxBrightness: number;
  /** Variance of the Laplacian of the aligned 112×112 face's inner region, luma rescaled to a mean of 128. */
  minSharpness: number;
  /** p(open) of the more open eye (a blink closes both). */
  minEyesOpen: number;
  enroll: Partial<Omit<QualityThresholds, 'enroll'>>;
}

export interface FaceEngineOptions {
  /** Folder holding manifest.json and the ONNX files (callers pass `<repo>/models`). */
  modelsDir: string;
  /** Worker threads; default: CPU count (at least 1). */
  poolSize?: number;
  /** Analyses admitted beyond one per worker (reserved, waiting) before callers get OVERLOADED; default 4 × poolSize. */
  maxQueue?: number;
  /**
   * A request expected to wait longer than this (ms) for workers is refused at once, and one that can no longer
   * start within it is refused instead of run (both OVERLOADED); default 2000.
   */
  maxWaitMs?: number;
  /** Input limits: bytes (default 15 MB) and decoded pixels (default 40 MP). */
  maxBytes?: number;
  maxPixels?: number;
  /** An analysis still running after this many ms has its worker replaced and fails with ENGINE_UNAVAILABLE; default 30 000. */
  taskTimeoutMs?: number;
  matchThreshold?: number;
  livenessThreshold?: number;
  quality?: Partial<QualityThresholds>;
}

export interface CompareResult {
  /** Best cosine similarity (−1..1); −1 when there are no templates. */
  similarity: number;
  /** `similarityToScore(similarity)`, 0..100. */
  score: number;
  /** Index of the best template, −1 when there are none. */
  index: number;
  match: boolean;
}

export interface Thresholds {
  matchThreshold: number;
  livenessThreshold: number;
}

export interface FaceEngine {
  /** Quality issues are in the result; only undecodable/oversized input, overload and a failed worker throw FaceError. */
  analyze(image: Buffer | Uint8Array, purpose: Purpose, opts?: AnalyzeOptions): Promise<Analysis>;
  /**
   * Admits one request for all of `purposes` (pass the admission to `analyze` for each, `extend()` it with analyses
   * the request turns out to need, and `release()` it when the request ends), or throws FaceError OVERLOADED with
   * Retry-After: when the request is expected to wait longer than the engine's maximum wait for workers, or when
   * `tenant` holds more than its fair share while others are being refused (src/face/README.md, Admission).
   */
  admit(purposes: readonly Purpose[], opts?: AdmitOptions): Admission;
  compare(embedding: Float32Array, templates: Float32Array[]): CompareResult;
  /**
   * fr_feature's identity, `fr_feature@<12 hex of its SHA-256>`: the embedding space. A template matches when its
   * stored id names this model, whatever its recipe (`sameEmbeddingSpace`).
   */
  readonly modelId: string;
  /** The model/recipe id of the reference embeddings this engine makes (`<modelId>+flip`), stored with new templates. */
  readonly recipeId: string;
  readonly ready: boolean;
  setThresholds(t: Partial<Thresholds>): void;
  readonly thresholds: Thresholds;
  stats(): { poolSize: number; queued: number; running: number };
  close(): Promise<void>;
}
