// Public surface of challenge liveness: draw a challenge, feed it frames, read progress and the decision.
export { drawChallenge, parseMovements, DEFAULT_LIFETIME_MS, MAX_LIFETIME_MS, type DrawOptions } from './draw.js';
export { ChallengeSession, engineAnalyzer, type FrameAnalyzer, type FrameResult, type SessionOptions } from './session.js';
export { ChallengeVerifier, isCurrentState, NEEDS_VERIFY, type SerializedVerifier, type TraceLine, type VerifierOptions } from './verifier.js';
export { observeAnalysis } from './observe.js';
export { DEFAULT_RULES, type ChallengeRules } from './rules.js';
export { failureMessage } from './guidance.js';
export type { Point } from './geometry.js';
export { runLivenessEval, formatLivenessEval, readSequences, BONA_FIDE, type LivenessEvalResult, type Sequence, type SequenceResult } from './eval.js';
export {
  MOVEMENTS,
  embeddedAnalyses,
  type Challenge,
  type ChallengeStatus,
  type Decision,
  type FailureCode,
  type FramePurpose,
  type FrameRefusal,
  type Movement,
  type Observation,
  type Progress,
} from './types.js';
