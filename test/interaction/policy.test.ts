import { describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { acrTarget } from '../../src/oidc/policy.js';
import { nextStep } from '../../src/interaction/plan.js';
import { emptyState } from '../../src/interaction/state.js';

const identified = { ...emptyState(), email: 'a@example.com', accountId: 'id' };
const enrolled = { known: true, hasFace: true, faceLocked: false };
const locked = { ...enrolled, faceLocked: true };
const faceOnly = {};
const lenient = { 'urn:face-oidc:allow_password_only': true };

describe('face step policy', () => {
  it('finishes a face sign-in only with liveness, with the face acr and amr', () => {
    const done = { ...identified, done: { face: true, liveness: true } };
    expect(nextStep(done, acrTarget(undefined, faceOnly), enrolled)).toEqual({ kind: 'finish', amr: ['face', 'liveness'], acr: ACR.face });
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
    const unknown = { known: false, hasFace: false, faceLocked: false };
    const anonymous = { ...identified, accountId: null };
    for (const client of [faceOnly, lenient]) {
      expect(nextStep(anonymous, acrTarget(undefined, client), unknown)).toEqual(nextStep(identified, acrTarget(undefined, client), enrolled));
    }
  });
});
