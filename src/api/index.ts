// Public surface of the Face Match API.
export type { ApiDeps } from './deps.js';
export { createApiRouter } from './routes.js';
export { purgeExpiredMatchRecords } from './records.js';
/** Validates Client.matchRules where they are edited (admin UI, CLI). */
export { matchRulesSchema } from './decision.js';
export type { Decision, Envelope, MatchRecordBody } from './types.js';
