// Public surface of face verification and attempt limits.
export { FaceVerification, type VerificationDeps } from './service.js';
export { AttemptAccounting, IP_POLICY, type AttemptStart, type AttemptSubject, type AttemptTicket, type TicketedStart, type CountedAttempt, type FailureOutcome, type Throttling } from './accounting.js';
export type { CountedFactor, LimitPolicy, LimitVerdict, Origin } from './attempts.js';
export type { AttemptDecision, AttemptOutcome } from './frame-decision.js';
export { CAPTURE_TOKEN_TTL_SECONDS } from './capture-tokens.js';
export { ChallengeRefusal, LiveChallenges, type ChallengeAttempt, type ChallengeEvent, type ChallengeOwner, type ChallengeSurface, type FrameOutcome } from './live-challenge.js';
export { ChallengeStats, DURATION_BUCKETS, type ChallengeDay } from './challenge-stats.js';
export { forgetFaceTraces } from './traces.js';
