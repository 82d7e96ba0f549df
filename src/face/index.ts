// Public surface of the face engine.
export type {
  Analysis,
  AnalyzeOptions,
  Box,
  ChosenFace,
  CompareResult,
  DetectedFace,
  FaceEngine,
  FaceEngineOptions,
  Lane,
  Pose,
  Purpose,
  QualityCode,
  QualityIssue,
  QualityThresholds,
  Thresholds,
} from './types.js';
export { FaceError, FACE_ERROR_STATUS, type FaceErrorCode } from './errors.js';
export { createFaceEngine } from './engine.js';
export type { Admission, AdmitOptions } from './schedule.js';
export { verifyModels, type ManifestInfo } from './manifest.js';
export {
  MATCH_PRESETS,
  DEFAULT_MATCH_THRESHOLD,
  SCORE_KNOTS,
  similarityToScore,
  scoreToSimilarity,
  cosine,
  embeddingToBytes,
  embeddingFromBytes,
  type MatchPreset,
} from './similarity.js';
export { DEFAULT_QUALITY, DEFAULT_LIVENESS_THRESHOLD, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from './config.js';
export { QUALITY_MESSAGES } from './quality.js';
export { ACCEPTED_IMAGES, sniffImageFormat, type ImageFormat } from './format.js';
export { otherFaces, SIZE_TIE_RATIO } from './subject.js';
export { embeddingModel, recipeId, sameEmbeddingSpace } from './recipe.js';
export { runEval, readPairs, type EvalResult, type Pair } from './eval.js';
/** Nearest-rank percentile, shared by every benchmark. */
export { percentile } from './metrics.js';
/** The centroid of some of the 68 landmarks (an eye's, the mouth corners'), shared by alignment and challenge geometry. */
export { meanPoint } from './landmarks.js';
export { dHash, hamming, NEAR_DUPLICATE_BITS } from './fingerprint.js';
