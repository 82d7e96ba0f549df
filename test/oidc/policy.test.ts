import { describe, expect, it } from 'vitest';
import { ACR, assurance } from '../../src/oidc/acr.js';
import { acrTarget } from '../../src/oidc/policy.js';
import { nextStep } from '../../src/interaction/plan.js';
import { emptyState } from '../../src/interaction/state.js';

const faceOnly = {};
const passwordAllowed = { 'urn:face-oidc:allow_password_only': true };
const mfaRequired = { 'urn:face-oidc:required_acr': ACR.mfa };

describe('acr policy', () => {
  it('aims for face by default and accepts password only where the client allows it', () => {
    expect(acrTarget(undefined, faceOnly)).toEqual({ preferred: ACR.face, minimum: ACR.face });
    expect(acrTarget(undefined, passwordAllowed)).toEqual({ preferred: ACR.face, minimum: ACR.password });
    expect(acrTarget(ACR.password, passwordAllowed)).toEqual({ preferred: ACR.password, minimum: ACR.password });
    // A client that does not allow password-only never gets it, even when it asks.
    expect(acrTarget(ACR.password, faceOnly)).toEqual({ preferred: ACR.face, minimum: ACR.face });
  });

  it('never goes below the registered minimum, and honours a stronger request', () => {
    expect(acrTarget(ACR.face, mfaRequired)).toEqual({ preferred: ACR.mfa, minimum: ACR.mfa });
    expect(acrTarget(`unknown ${ACR.mfa}`, faceOnly)).toEqual({ preferred: ACR.mfa, minimum: ACR.mfa });
  });

  it('turns verified factors into RFC 8176 amr and the acr they satisfy', () => {
    expect(assurance({ face: true, liveness: true })).toEqual({ amr: ['face', 'liveness'], acr: ACR.face });
    expect(assurance({ face: true, liveness: true, pwd: true })).toEqual({ amr: ['face', 'liveness', 'pwd', 'mfa'], acr: ACR.mfa });
    expect(assurance({ pwd: true })).toEqual({ amr: ['pwd'], acr: ACR.password });
    // A face without liveness is not a face sign-in.
    expect(assurance({ face: true })).toBeNull();
  });
});

describe('sign-in plan', () => {
  const known = { known: true, hasFace: true, faceLocked: false };
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
    const unknown = { known: false, hasFace: false, faceLocked: false };
    expect(nextStep({ ...identified, accountId: null }, acrTarget(undefined, faceOnly), unknown)).toEqual(nextStep(identified, acrTarget(undefined, faceOnly), known));
  });

  it('offers the password alternative only where allowed', () => {
    const noFace = { known: true, hasFace: false, faceLocked: false };
    expect(nextStep(identified, acrTarget(undefined, passwordAllowed), noFace)).toMatchObject({ factor: 'pwd' });
    expect(nextStep(identified, acrTarget(undefined, faceOnly), noFace)).toMatchObject({ kind: 'unavailable', reason: 'NO_FACE_ENROLLED' });
    expect(nextStep(identified, acrTarget(undefined, passwordAllowed), known)).toEqual({ kind: 'factor', factor: 'face', canFallBack: true });
    expect(nextStep({ ...identified, passwordFallback: true }, acrTarget(undefined, passwordAllowed), known)).toMatchObject({ factor: 'pwd' });
    expect(nextStep({ ...identified, passwordFallback: true }, acrTarget(undefined, faceOnly), known)).toMatchObject({ factor: 'face' });
  });

  it('reports a locked face factor', () => {
    expect(nextStep(identified, acrTarget(undefined, faceOnly), { known: true, hasFace: true, faceLocked: true })).toMatchObject({ kind: 'unavailable', reason: 'FACE_LOCKED' });
  });
});
