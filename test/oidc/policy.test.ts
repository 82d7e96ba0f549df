import { describe, expect, it } from 'vitest';
import { ACR, assurance } from '../../src/oidc/acr.js';
import { acrTarget } from '../../src/oidc/policy.js';

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
