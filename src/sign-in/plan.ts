import { ACR, type Acr, type Factor, assurance, factorsFor } from '../oidc/acr.js';
import { type AcrTarget, type ClientPolicy, passiveFaceAllowed } from '../oidc/policy.js';
import type { InteractionState } from './state.js';

export interface AccountFacts {
  /** Known, active account. Unknown identifiers are planned like known ones with a face enrolled. */
  known: boolean;
  hasFace: boolean;
  faceLocked: boolean;
  /** At least one passkey registered (unknown identifiers are planned as if they had one). */
  hasPasskey: boolean;
}

export const FACE_LOCKED_MESSAGE = 'Face sign-in is locked for this account after too many failed attempts. Ask an administrator to unlock it.';
export const NO_FACE_MESSAGE = 'No face is enrolled for this account yet. Ask an administrator to enroll you.';
export const NO_PASSKEY_MESSAGE = 'This app asks for a passkey and your face. Add a passkey on your account page (sign in there with your face), then try again.';

export type NextStep =
  | { kind: 'identifier' }
  | { kind: 'factor'; factor: Factor; canFallBack: boolean }
  | { kind: 'finish'; amr: string[]; acr: Acr }
  | { kind: 'unavailable'; reason: 'NO_FACE_ENROLLED' | 'FACE_LOCKED' | 'NO_PASSKEY'; message: string };

/** Factors run in this order: a passkey names the account, so it comes before the face it vouches for. */
const ORDER: Factor[] = ['pwd', 'passkey', 'face'];

/**
 * Decides what the sign-in needs next. Factors run in a fixed order (password, passkey, then face) until the verified
 * ones satisfy the target acr. The password alternative replaces face only where the minimum acr allows it.
 */
export function nextStep(state: InteractionState, target: AcrTarget, account: AccountFacts): NextStep {
  if (!state.email) return { kind: 'identifier' };
  const passwordAllowed = target.minimum === ACR.password;
  const faceUsable = !account.known || (account.hasFace && !account.faceLocked);
  let goal: Acr = target.preferred;
  if (factorsFor(goal).includes('face') && (state.passwordFallback || !faceUsable) && passwordAllowed) goal = ACR.password;
  const needed = factorsFor(goal);
  if (needed.includes('face') && !faceUsable) {
    return account.faceLocked
      ? { kind: 'unavailable', reason: 'FACE_LOCKED', message: FACE_LOCKED_MESSAGE }
      : { kind: 'unavailable', reason: 'NO_FACE_ENROLLED', message: NO_FACE_MESSAGE };
  }
  if (needed.includes('passkey') && !state.done.passkey && account.known && !account.hasPasskey) {
    return { kind: 'unavailable', reason: 'NO_PASSKEY', message: NO_PASSKEY_MESSAGE };
  }
  const pending = ORDER.find((f) => needed.includes(f) && !state.done[f]);
  if (pending) return { kind: 'factor', factor: pending, canFallBack: pending === 'face' && passwordAllowed };
  const result = assurance(state.done);
  if (!result) return { kind: 'identifier' };
  return { kind: 'finish', ...result };
}

/**
 * How the face step runs: the head-movement challenge by default; one passive picture only where the app allows
 * the weaker acr and the sign-in aims for no more.
 */
export function faceMode(target: AcrTarget, client: ClientPolicy): 'challenge' | 'passive' {
  return passiveFaceAllowed(target, client) && target.preferred === ACR.facePassive ? 'passive' : 'challenge';
}
