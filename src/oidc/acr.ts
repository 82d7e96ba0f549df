/**
 * Authentication context classes the provider can assert, weakest first. `amr` values follow RFC 8176, plus the
 * product's own "liveness" for a passed head-movement challenge (src/challenge).
 */
export const ACR = {
  /** Password only: the non-biometric alternative, for clients that allow it. */
  password: 'urn:face-oidc:acr:pwd',
  /**
   * One picture matched against the enrolled templates with passive liveness, no challenge: a still photo shown to
   * the camera can pass it. Only for clients an administrator allows (kiosks with a fixed camera).
   */
  facePassive: 'urn:face-oidc:acr:face-passive',
  /** Face matched server-side against enrolled templates during a head-movement challenge drawn by the server. */
  face: 'urn:face-oidc:acr:face',
  /** Password and face with the challenge (two factors). */
  mfa: 'urn:face-oidc:acr:face+pwd',
  /** A passkey (a phishing-resistant physical authenticator, user verification required) and face. */
  passkey: 'urn:face-oidc:acr:face+passkey',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];
export const ACR_VALUES: Acr[] = [ACR.password, ACR.facePassive, ACR.face, ACR.mfa, ACR.passkey];

export type Factor = 'pwd' | 'passkey' | 'face';

/** What the steps of a sign-in verified; `passkey` holds the amr value the key earned (see src/passkeys). */
export interface Verified {
  pwd?: boolean;
  face?: boolean;
  liveness?: boolean;
  passkey?: 'hwk' | 'swk';
}

export function isAcr(value: unknown): value is Acr {
  return typeof value === 'string' && (ACR_VALUES as string[]).includes(value);
}

export function acrRank(acr: string | undefined | null): number {
  return isAcr(acr) ? ACR_VALUES.indexOf(acr) + 1 : 0;
}

/** The factors an acr needs. */
export function factorsFor(acr: Acr): Factor[] {
  if (acr === ACR.passkey) return ['passkey', 'face'];
  if (acr === ACR.mfa) return ['pwd', 'face'];
  if (acr === ACR.face || acr === ACR.facePassive) return ['face'];
  return ['pwd'];
}

/**
 * What the verified factors amount to: amr per RFC 8176 (`face`, `pwd`, `hwk`/`swk` for the passkey, `mfa` once
 * two distinct factors passed) and the strongest acr they satisfy. `liveness` (and the challenge acrs) only after a
 * passed challenge; a passive face capture gives the passive acr. A passkey alone satisfies none: it is always
 * followed by the face step.
 */
export function assurance(done: Verified): { amr: string[]; acr: Acr } | null {
  const amr: string[] = [];
  if (done.face) amr.push('face');
  if (done.face && done.liveness) amr.push('liveness');
  if (done.pwd) amr.push('pwd');
  if (done.passkey) amr.push(done.passkey);
  if ([done.face, done.pwd, done.passkey].filter(Boolean).length >= 2) amr.push('mfa');
  const face = done.face && done.liveness;
  if (face && done.passkey) return { amr, acr: ACR.passkey };
  if (face && done.pwd) return { amr, acr: ACR.mfa };
  if (face) return { amr, acr: ACR.face };
  if (done.face) return { amr, acr: ACR.facePassive };
  if (done.pwd) return { amr, acr: ACR.password };
  return null;
}
