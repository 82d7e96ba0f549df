/**
 * Authentication context classes the provider can assert, weakest first. `amr` values follow RFC 8176, plus the
 * product's own "liveness" for a passed passive presentation-attack check.
 */
export const ACR = {
  /** Password only: the non-biometric alternative, for clients that allow it. */
  password: 'urn:face-oidc:acr:pwd',
  /** Face matched server-side against enrolled templates, passive liveness passed. */
  face: 'urn:face-oidc:acr:face',
  /** Password and face (two factors). */
  mfa: 'urn:face-oidc:acr:face+pwd',
  /** A passkey (a phishing-resistant physical authenticator, user verification required) and face. */
  passkey: 'urn:face-oidc:acr:face+passkey',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];
export const ACR_VALUES: Acr[] = [ACR.password, ACR.face, ACR.mfa, ACR.passkey];

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
  if (acr === ACR.face) return ['face'];
  return ['pwd'];
}

/**
 * What the verified factors amount to: amr per RFC 8176 (`face`, `pwd`, `hwk`/`swk` for the passkey, `mfa` once
 * two distinct factors passed) and the strongest acr they satisfy. A passkey alone satisfies none: it is always
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
  if (done.pwd) return { amr, acr: ACR.password };
  return null;
}
