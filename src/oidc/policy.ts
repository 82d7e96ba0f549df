import { ACR, type Acr, acrRank, isAcr } from './acr.js';

/** The client metadata the policy reads (oidc-provider Client instance or its metadata). */
export interface ClientPolicy {
  'urn:face-oidc:required_acr'?: string;
  'urn:face-oidc:allow_password_only'?: boolean;
  'urn:face-oidc:allow_passive_face'?: boolean;
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
 * it (the non-biometric alternative NIST SP 800-63B asks for), and only when nothing stronger was required. The
 * passive face acr likewise only for clients that allow it; such a client aims for it unless the request or its
 * registration asks for more, and every other client gets the challenge.
 */
export function acrTarget(acrValues: string | undefined, client: ClientPolicy | undefined): AcrTarget {
  const allowPassword = client?.['urn:face-oidc:allow_password_only'] === true;
  const allowPassive = client?.['urn:face-oidc:allow_passive_face'] === true;
  const registered = client?.['urn:face-oidc:required_acr'];
  let floor: Acr = isAcr(registered) ? registered : allowPassword ? ACR.password : allowPassive ? ACR.facePassive : ACR.face;
  if ((floor === ACR.password && !allowPassword) || (floor === ACR.facePassive && !allowPassive)) floor = ACR.face;
  const requested = (acrValues ?? '').split(' ').find(isAcr);
  const minimum = requested ? stronger(requested, floor) : floor;
  const usual = allowPassive && acrRank(minimum) <= acrRank(ACR.facePassive) ? ACR.facePassive : ACR.face;
  return { minimum, preferred: requested ? minimum : stronger(usual, minimum) };
}

/** Whether one passive picture may establish the face factor: the client allows it and the target accepts its acr. */
export function passiveFaceAllowed(target: AcrTarget, client: ClientPolicy | undefined): boolean {
  return client?.['urn:face-oidc:allow_passive_face'] === true && acrRank(target.minimum) <= acrRank(ACR.facePassive);
}
