import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per server instance so tests can run several in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'signin_outcomes_total',
      help: 'Sign-in attempts by factor, outcome and reason',
      labelNames: ['factor', 'outcome', 'reason'] as const,
      registers: [registry],
    }),
    faceVerification: new Histogram({
      name: 'face_verification_seconds',
      help: 'Server time of a face verification (all frames)',
      buckets: [0.02, 0.04, 0.06, 0.09, 0.12, 0.2, 0.35, 0.5, 1, 2],
      registers: [registry],
    }),
    // The head-movement challenge in the field (aggregates only; the console's challenge page reads the same counts).
    challengesStarted: new Counter({
      name: 'face_challenges_started_total',
      help: 'Head-movement challenges that received their first frame, by surface (signin, reenroll)',
      labelNames: ['surface'] as const,
      registers: [registry],
    }),
    challengeOutcomes: new Counter({
      name: 'face_challenge_outcomes_total',
      help: 'Decided head-movement challenges by surface, outcome (passed, refused) and refusal reason',
      labelNames: ['surface', 'outcome', 'reason'] as const,
      registers: [registry],
    }),
    challengeDuration: new Histogram({
      name: 'face_challenge_duration_seconds',
      help: 'Time from the first frame to a passed decision of a head-movement challenge',
      labelNames: ['surface'] as const,
      buckets: [3, 5, 8, 12, 20, 30, 60],
      registers: [registry],
    }),
    challengeRetries: new Counter({
      name: 'face_challenge_retries_total',
      help: 'Sittings with a first refused challenge (event="first_refusal") and passes after a refusal (event="passed_after_refusal")',
      labelNames: ['surface', 'event'] as const,
      registers: [registry],
    }),
    apiMatches: new Counter({
      name: 'face_match_api_requests_total',
      help: 'Face Match API requests by decision or error code',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    backchannelLogouts: new Counter({
      name: 'backchannel_logout_attempts_total',
      help: 'Back-channel logout deliveries by outcome: delivered, retry (will be retried), gave_up, dropped (app no longer listens)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
