import { describe, expect, it } from 'vitest';
import { ACR, assurance } from '../../src/oidc/acr.js';
import { acrTarget, passiveFaceAllowed } from '../../src/oidc/policy.js';

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
    // A face without a passed challenge is only the passive acr, never liveness nor the challenge acrs.
    expect(assurance({ face: true })).toEqual({ amr: ['face'], acr: ACR.facePassive });
    expect(assurance({ face: true, pwd: true })).toEqual({ amr: ['face', 'pwd', 'mfa'], acr: ACR.facePassive });
    expect(assurance({})).toBeNull();
  });

  it('accepts the passive face acr only from clients that allow it, and aims for it there unless more is asked', () => {
    const kiosk = { 'urn:face-oidc:allow_passive_face': true };
    expect(acrTarget(undefined, kiosk)).toEqual({ minimum: ACR.facePassive, preferred: ACR.facePassive });
    expect(passiveFaceAllowed(acrTarget(undefined, kiosk), kiosk)).toBe(true);
    expect(acrTarget(ACR.face, kiosk)).toEqual({ minimum: ACR.face, preferred: ACR.face });
    expect(passiveFaceAllowed(acrTarget(ACR.face, kiosk), kiosk)).toBe(false);
    // Others get the challenge, whatever the request or registration says.
    expect(acrTarget(ACR.facePassive, {})).toEqual({ minimum: ACR.face, preferred: ACR.face });
    expect(acrTarget(undefined, { 'urn:face-oidc:required_acr': ACR.facePassive })).toEqual({ minimum: ACR.face, preferred: ACR.face });
    expect(passiveFaceAllowed(acrTarget(undefined, {}), {})).toBe(false);
  });
});
