import { errors } from 'oidc-provider';
import { DOCUMENT_TYPES, requestProblem, TRUST_FRAMEWORK, VERIFIED_CLAIM_NAMES, type VerifiedData, verifiedClaimsFor } from '../proofing/index.js';

/** What the account's identity proofing established (null without one in force). */
export type VerifiedClaimsSource = (accountId: string) => Promise<VerifiedData | null>;

/**
 * Discovery metadata of OpenID Connect for Identity Assurance 1.0 (`claims_parameter_supported` comes from the
 * provider's claimsParameter feature).
 */
export function identityAssuranceMetadata() {
  return {
    claim_types_supported: ['normal'],
    verified_claims_supported: true,
    trust_frameworks_supported: [TRUST_FRAMEWORK],
    evidence_supported: ['document'],
    documents_supported: [...DOCUMENT_TYPES],
    documents_check_methods_supported: ['vri', 'bvr'],
    claims_in_verified_claims_supported: [...VERIFIED_CLAIM_NAMES],
  };
}

/**
 * A malformed `verified_claims` request is refused with invalid_request before anyone signs in. The array form
 * (alternatives) is refused too: oidc-provider's claim filter passes only object requests through, so an array would
 * be dropped silently.
 */
export function assertVerifiedClaimsRequest(claims: { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> }): void {
  for (const target of ['id_token', 'userinfo'] as const) {
    const request = claims[target]?.verified_claims;
    if (request === undefined) continue;
    if (Array.isArray(request)) throw new errors.InvalidRequest(`claims.${target}.verified_claims: the array form is not supported; request one object`);
    const problem = requestProblem(request);
    if (problem) throw new errors.InvalidRequest(`claims.${target}.${problem}`);
  }
}

/**
 * The `verified_claims` member of an ID token or userinfo response: only when the app requested it (the provider
 * passes only claims the grant holds — the person released them to this app), not rejected, and the account's
 * proofing is in force; cut down to what was requested.
 */
export async function verifiedClaimsClaim(source: VerifiedClaimsSource, accountId: string, requested: Record<string, unknown> | undefined, rejected: string[] | undefined) {
  const request = requested?.verified_claims;
  if (request === undefined || rejected?.includes('verified_claims')) return {};
  const data = await source(accountId);
  const value = data ? verifiedClaimsFor(data, request) : undefined;
  return value === undefined ? {} : { verified_claims: value };
}
