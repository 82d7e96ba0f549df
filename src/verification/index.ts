// Public surface of face verification and attempt limits.
export { FaceVerification, addressSubject, type AttemptSubject, type CountedFactor, type FailureOutcome, type VerificationDeps } from './service.js';
export type { LimitPolicy, LimitVerdict } from './attempts.js';
export type { AttemptDecision, AttemptOutcome } from './frame-decision.js';
export { CAPTURE_TOKEN_TTL_SECONDS } from './capture-tokens.js';
