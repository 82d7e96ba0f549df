import { ACR, type Acr, acrRank, isAcr } from './acr.js';

/** The client metadata the policy reads (oidc-provider Client instance or its metadata). */
export interface ClientPolicy {
  'urn:face-oidc:required_acr'?: string;
  'urn:face-oidc:allow_password_only'?: boolean;
}

export interface AcrTarget {
  /** What the sign-in aims for. */
  preferred: Acr;
  /** The least that satisfies the request: below it the login prompt runs again. */
  minimum: Acr;
}

function stronger(a: Acr, b: Acr): Acr {
  return acrRank(a) >= acrRank(b) ? a : b;
}

/**
 * The acr a request must reach. The first acr the request asks for wins, never below the client's registered
 * requirement; without either the sign-in aims for face. Password-only is acceptable only for clients that allow
 * it (the non-biometric alternative NIST SP 800-63B asks for), and only when nothing stronger was required.
 */
export function acrTarget(acrValues: string | undefined, client: ClientPolicy | undefined): AcrTarget {
  const allowPassword = client?.['urn:face-oidc:allow_password_only'] === true;
  const registered = client?.['urn:face-oidc:required_acr'];
  let floor: Acr = isAcr(registered) ? registered : allowPassword ? ACR.password : ACR.face;
  if (floor === ACR.password && !allowPassword) floor = ACR.face;
  const requested = (acrValues ?? '').split(' ').find(isAcr);
  const minimum = requested ? stronger(requested, floor) : floor;
  return { minimum, preferred: requested ? minimum : stronger(ACR.face, minimum) };
}
