import { describe, expect, it } from 'vitest';
import { ACR, assurance } from '../../src/oidc/acr.js';
import { acrTarget } from '../../src/oidc/policy.js';
import { faceMode, nextStep } from '../../src/sign-in/plan.js';
import { emptyState } from '../../src/sign-in/state.js';

const identified = { ...emptyState(), email: 'a@example.com', accountId: 'id' };
const enrolled = { known: true, hasFace: true, faceLocked: false, hasPasskey: false };
const locked = { ...enrolled, faceLocked: true };
const faceOnly = {};
const passwordAllowed = { 'urn:face-oidc:allow_password_only': true };
const mfaRequired = { 'urn:face-oidc:required_acr': ACR.mfa };
const lenient = { 'urn:face-oidc:allow_password_only': true };

describe('face step policy', () => {
  it('finishes a face sign-in only with liveness, with the face acr and amr', () => {
    const done = { ...identified, done: { face: true, liveness: true } };
    expect(nextStep(done, acrTarget(undefined, faceOnly), enrolled)).toEqual({ kind: 'finish', amr: ['face', 'liveness'], acr: ACR.face });
  });

  it('runs the challenge by default and the passive capture only for an app that allows it', () => {
    const kiosk = { 'urn:face-oidc:allow_passive_face': true };
    expect(faceMode(acrTarget(undefined, faceOnly), faceOnly)).toBe('challenge');
    expect(faceMode(acrTarget(undefined, kiosk), kiosk)).toBe('passive');
    expect(faceMode(acrTarget(ACR.face, kiosk), kiosk)).toBe('challenge');
    expect(faceMode(acrTarget(ACR.mfa, kiosk), kiosk)).toBe('challenge');
    // A passive face finishes with the passive acr and amr face only.
    const passive = { ...identified, done: { face: true } };
    expect(nextStep(passive, acrTarget(undefined, kiosk), enrolled)).toEqual({ kind: 'finish', amr: ['face'], acr: ACR.facePassive });
  });

  it('asks for the password first when the app registered the MFA acr as its default', () => {
    const mfaApp = { 'urn:face-oidc:required_acr': ACR.mfa };
    expect(nextStep(identified, acrTarget(undefined, mfaApp), enrolled)).toMatchObject({ kind: 'factor', factor: 'pwd' });
    // A request cannot lower it.
    expect(nextStep(identified, acrTarget(ACR.face, mfaApp), enrolled)).toMatchObject({ kind: 'factor', factor: 'pwd' });
    expect(nextStep({ ...identified, done: { pwd: true } }, acrTarget(undefined, mfaApp), enrolled)).toEqual({ kind: 'factor', factor: 'face', canFallBack: false });
  });

  it('offers the password instead of a locked face only where the app allows password-only', () => {
    expect(nextStep(identified, acrTarget(undefined, lenient), locked)).toMatchObject({ kind: 'factor', factor: 'pwd' });
    expect(nextStep(identified, acrTarget(undefined, faceOnly), locked)).toMatchObject({ kind: 'unavailable', reason: 'FACE_LOCKED' });
    expect(nextStep(identified, acrTarget(ACR.mfa, lenient), locked)).toMatchObject({ kind: 'unavailable', reason: 'FACE_LOCKED' });
  });

  it('plans unknown identifiers like enrolled accounts, with the same fallback offer', () => {
    const unknown = { known: false, hasFace: false, faceLocked: false, hasPasskey: false };
    const anonymous = { ...identified, accountId: null };
    for (const client of [faceOnly, lenient]) {
      expect(nextStep(anonymous, acrTarget(undefined, client), unknown)).toEqual(nextStep(identified, acrTarget(undefined, client), enrolled));
    }
  });
});

describe('sign-in plan', () => {
  const known = { known: true, hasFace: true, faceLocked: false, hasPasskey: false };
  const identified = { ...emptyState(), email: 'a@example.com', accountId: 'id' };

  it('asks for the identifier first, then the factors in order', () => {
    expect(nextStep(emptyState(), acrTarget(undefined, faceOnly), known)).toEqual({ kind: 'identifier' });
    expect(nextStep(identified, acrTarget(undefined, faceOnly), known)).toEqual({ kind: 'factor', factor: 'face', canFallBack: false });
    expect(nextStep(identified, acrTarget(undefined, mfaRequired), known)).toMatchObject({ factor: 'pwd' });
    expect(nextStep({ ...identified, done: { pwd: true } }, acrTarget(undefined, mfaRequired), known)).toMatchObject({ factor: 'face' });
    expect(nextStep({ ...identified, done: { pwd: true, face: true, liveness: true } }, acrTarget(undefined, mfaRequired), known)).toEqual({
      kind: 'finish',
      amr: ['face', 'liveness', 'pwd', 'mfa'],
      acr: ACR.mfa,
    });
  });

  it('treats unknown identifiers like enrolled accounts (no enumeration before the face step)', () => {
    const unknown = { known: false, hasFace: false, faceLocked: false, hasPasskey: false };
    expect(nextStep({ ...identified, accountId: null }, acrTarget(undefined, faceOnly), unknown)).toEqual(nextStep(identified, acrTarget(undefined, faceOnly), known));
  });

  it('offers the password alternative only where allowed', () => {
    const noFace = { known: true, hasFace: false, faceLocked: false, hasPasskey: false };
    expect(nextStep(identified, acrTarget(undefined, passwordAllowed), noFace)).toMatchObject({ factor: 'pwd' });
    expect(nextStep(identified, acrTarget(undefined, faceOnly), noFace)).toMatchObject({ kind: 'unavailable', reason: 'NO_FACE_ENROLLED' });
    expect(nextStep(identified, acrTarget(undefined, passwordAllowed), known)).toEqual({ kind: 'factor', factor: 'face', canFallBack: true });
    expect(nextStep({ ...identified, passwordFallback: true }, acrTarget(undefined, passwordAllowed), known)).toMatchObject({ factor: 'pwd' });
    expect(nextStep({ ...identified, passwordFallback: true }, acrTarget(undefined, faceOnly), known)).toMatchObject({ factor: 'face' });
  });

  it('reports a locked face factor', () => {
    expect(nextStep(identified, acrTarget(undefined, faceOnly), { known: true, hasFace: true, faceLocked: true, hasPasskey: false })).toMatchObject({ kind: 'unavailable', reason: 'FACE_LOCKED' });
  });
});

describe('passkey factor', () => {
  const withKey = { known: true, hasFace: true, faceLocked: false, hasPasskey: true };
  const withoutKey = { ...withKey, hasPasskey: false };
  const identified = { ...emptyState(), email: 'a@example.com', accountId: 'id' };
  const passkeyApp = { 'urn:face-oidc:required_acr': ACR.passkey };

  it('asks for the passkey, then the face, when the app asks for face + passkey', () => {
    expect(nextStep(identified, acrTarget(ACR.passkey, faceOnly), withKey)).toEqual({ kind: 'factor', factor: 'passkey', canFallBack: false });
    expect(nextStep(identified, acrTarget(undefined, passkeyApp), withKey)).toMatchObject({ kind: 'factor', factor: 'passkey' });
    expect(nextStep({ ...identified, done: { passkey: 'hwk' } }, acrTarget(ACR.passkey, faceOnly), withKey)).toEqual({ kind: 'factor', factor: 'face', canFallBack: false });
    expect(nextStep({ ...identified, done: { passkey: 'hwk', face: true, liveness: true } }, acrTarget(ACR.passkey, faceOnly), withKey)).toEqual({
      kind: 'finish',
      amr: ['face', 'liveness', 'hwk', 'mfa'],
      acr: ACR.passkey,
    });
  });

  it('says so when the account has no passkey, but plans unknown identifiers as if they had one', () => {
    expect(nextStep(identified, acrTarget(ACR.passkey, faceOnly), withoutKey)).toMatchObject({ kind: 'unavailable', reason: 'NO_PASSKEY' });
    const unknown = { known: false, hasFace: false, faceLocked: false, hasPasskey: false };
    expect(nextStep({ ...identified, accountId: null }, acrTarget(ACR.passkey, faceOnly), unknown)).toEqual(nextStep(identified, acrTarget(ACR.passkey, faceOnly), withKey));
  });

  it('follows a passkey sign-in without an email with the face, and the result is face + passkey', () => {
    const byKey = { ...identified, done: { passkey: 'swk' as const } };
    expect(nextStep(byKey, acrTarget(undefined, faceOnly), withKey)).toEqual({ kind: 'factor', factor: 'face', canFallBack: false });
    expect(nextStep({ ...byKey, done: { ...byKey.done, face: true, liveness: true } }, acrTarget(undefined, faceOnly), withKey)).toEqual({
      kind: 'finish',
      amr: ['face', 'liveness', 'swk', 'mfa'],
      acr: ACR.passkey,
    });
    // The face is still required: an account without one cannot finish with the key alone.
    expect(nextStep(byKey, acrTarget(undefined, faceOnly), { ...withKey, hasFace: false })).toMatchObject({ kind: 'unavailable', reason: 'NO_FACE_ENROLLED' });
  });

  it('ranks face + passkey above face + password, so a request for it cannot be lowered', () => {
    expect(acrTarget(ACR.face, passkeyApp)).toEqual({ minimum: ACR.passkey, preferred: ACR.passkey });
    expect(acrTarget(ACR.passkey, { 'urn:face-oidc:required_acr': ACR.mfa })).toEqual({ minimum: ACR.passkey, preferred: ACR.passkey });
    expect(assurance({ passkey: 'hwk' })).toBeNull();
    expect(assurance({ face: true, liveness: true, pwd: true, passkey: 'hwk' })).toEqual({ amr: ['face', 'liveness', 'pwd', 'hwk', 'mfa'], acr: ACR.passkey });
  });
});
