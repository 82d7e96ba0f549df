// Public surface of passkeys (WebAuthn): ceremonies, counters, listing, renaming, removal and their audit trail.
export { Passkeys, keyAmr, passkeyName, MAX_NAME_LENGTH, type KeyAmr, type PasskeyActor, type PasskeyContext, type PasskeyDeps, type PasskeySummary } from './service.js';
export { PasskeyStore, type NewPasskey } from './store.js';
export { PasskeyError, type PasskeyErrorCode } from './errors.js';
export { checkCounter, inspectAuthentication, inspectRegistration, relyingPartyOf, type Inspected, type RelyingPartyId } from './checks.js';
export { CEREMONY_TIMEOUT_MS, type Bound } from './challenges.js';
