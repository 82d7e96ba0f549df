export { PROOFING_CONSENT_TEXT, PROOFING_CONSENT_VERSION } from './consent-text.js';
export { IdentityProofing, ProofingError, type ProofingCheck, type ProofingEvidence, type ProofingState, type ProofingSummary } from './service.js';
export { ProofingStore } from './store.js';
export { DOCUMENT_TYPES, requestProblem, TRUST_FRAMEWORK, VERIFIED_CLAIM_NAMES, verifiedClaimsFor, type DocumentType, type IdentityClaims, type VerifiedData } from './verified-claims.js';
export { ProofingFlow, ProofingRefusal, type HeldDocument, type ProofingRefusalCode } from './flow.js';
