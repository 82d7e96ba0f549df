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
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];
export const ACR_VALUES: Acr[] = [ACR.password, ACR.face, ACR.mfa];

export type Factor = 'pwd' | 'face';

export function isAcr(value: unknown): value is Acr {
  return typeof value === 'string' && (ACR_VALUES as string[]).includes(value);
}

export function acrRank(acr: string | undefined | null): number {
  return isAcr(acr) ? ACR_VALUES.indexOf(acr) + 1 : 0;
}

/** The factors an acr needs. */
export function factorsFor(acr: Acr): Factor[] {
  if (acr === ACR.mfa) return ['pwd', 'face'];
  if (acr === ACR.face) return ['face'];
  return ['pwd'];
}

/** What the verified factors amount to: amr per RFC 8176 and the strongest acr they satisfy. */
export function assurance(done: { pwd?: boolean; face?: boolean; liveness?: boolean }): { amr: string[]; acr: Acr } | null {
  const amr: string[] = [];
  if (done.face) amr.push('face');
  if (done.face && done.liveness) amr.push('liveness');
  if (done.pwd) amr.push('pwd');
  if (done.face && done.pwd) amr.push('mfa');
  if (done.face && done.liveness && done.pwd) return { amr, acr: ACR.mfa };
  if (done.face && done.liveness) return { amr, acr: ACR.face };
  if (done.pwd) return { amr, acr: ACR.password };
  return null;
}
