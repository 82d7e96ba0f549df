import { FACE_LOCKED_MESSAGE } from '../sign-in/plan.js';
import type { FailureOutcome } from '../verification/index.js';
import { HttpError } from '../web/errors.js';

/** The refusals of the attempt limits, alike for the passive capture and the challenge. */
export const SIGN_IN_BUSY = 'This sign-in is sending too many pictures. Wait a minute and try again.';
const DEVICE_LOCKED = 'Too many failed attempts from this device: wait an hour, or sign in from a device you have used before.';
const waitMessage = (seconds: number) => `Too many failed attempts. Wait ${seconds} seconds before trying again.`;

/** The limits refuse to start an attempt: the NIST delay, or an hour for unknown devices. */
export function delayed(locked: boolean, retryAfter: number): HttpError {
  return new HttpError(429, 'FACE_DELAYED', locked ? DEVICE_LOCKED : waitMessage(retryAfter), { 'Retry-After': String(retryAfter) }, { retryAfter });
}

/** A lockout sends the page `back` (the sign-in, which now offers less, or the account page). */
function lockedOut(back: string): HttpError {
  return new HttpError(403, 'FACE_LOCKED', FACE_LOCKED_MESSAGE, {}, { redirect: back });
}

/** A refused verification that counted (401); from the delay on, the reply also says how long to wait. */
export function countedFailure(back: string, code: string, message: string, outcome: FailureOutcome): HttpError {
  if (outcome.lockedForGood) return lockedOut(back);
  const text = outcome.locked ? `${message} ${DEVICE_LOCKED}` : outcome.delayed ? `${message} ${waitMessage(outcome.delaySeconds)}` : message;
  return new HttpError(401, code, text, outcome.delayed ? { 'Retry-After': String(outcome.delaySeconds) } : {}, outcome.delayed ? { retryAfter: outcome.delaySeconds } : {});
}

/** What the page shows before any attempt while the limits hold it back (null when it may try). */
export function blockedMessage(verdict: { allowed: true } | { allowed: false; locked: boolean; retryAfter: number }): string | null {
  return verdict.allowed ? null : verdict.locked ? DEVICE_LOCKED : waitMessage(verdict.retryAfter);
}

/** The reason a face sign-in is audited and counted with: a failed match for an identifier without an account is UNKNOWN_ACCOUNT. */
export function recordedReason(hasAccount: boolean, code: string): string {
  return !hasAccount && code === 'NO_MATCH' ? 'UNKNOWN_ACCOUNT' : code;
}
