import { describe, expect, it } from 'vitest';
import { checkCounter, inspectAuthentication, inspectRegistration, relyingPartyOf } from '../../src/passkeys/index.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const rp = relyingPartyOf('https://id.example.com');
const creation = { challenge: 'Y2hhbGxlbmdlLWNoYWxsZW5nZS0xMjM0', user: { id: 'dXNlcg', name: 'u', displayName: 'U' } } as never;
const request = { challenge: 'Y2hhbGxlbmdlLWNoYWxsZW5nZS01Njc4' } as never;
const authenticator = () => new SoftAuthenticator('id.example.com', 'https://id.example.com');
const code = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

describe('passkey ceremony checks', () => {
  it('takes RP ID and origin from ISSUER', () => {
    expect(relyingPartyOf('https://id.example.com/')).toEqual({ origin: 'https://id.example.com', rpId: 'id.example.com' });
    expect(relyingPartyOf('http://localhost:3000')).toEqual({ origin: 'http://localhost:3000', rpId: 'localhost' });
  });

  it('reads a good registration: the challenge it signed, flags and counter', () => {
    const { inspected } = inspectRegistration(authenticator().register(creation), rp);
    expect(inspected).toEqual({ challenge: 'Y2hhbGxlbmdlLWNoYWxsZW5nZS0xMjM0', counter: 0, backupEligible: false, backedUp: false });
    const synced = new SoftAuthenticator('id.example.com', 'https://id.example.com', { backupEligible: true });
    expect(inspectRegistration(synced.register(creation), rp).inspected).toMatchObject({ backupEligible: true, backedUp: true });
  });

  it('refuses malformed registrations', () => {
    const good = authenticator().register(creation);
    for (const bad of [null, 'text', {}, { ...good, type: 'password' }, { ...good, response: {} }, { ...good, response: { ...good.response, clientDataJSON: 'not base64!' } }]) {
      expect(code(() => inspectRegistration(bad, rp))).toBe('PASSKEY_RESPONSE_INVALID');
    }
    expect(code(() => inspectRegistration({ ...good, response: { ...good.response, clientDataJSON: Buffer.from('{not json').toString('base64url') } }, rp))).toBe('PASSKEY_RESPONSE_INVALID');
    expect(code(() => inspectRegistration({ ...good, response: { ...good.response, attestationObject: 'AAAA' } }, rp))).toBe('PASSKEY_RESPONSE_INVALID');
    // The id the browser reports must be the credential the authenticator made.
    expect(code(() => inspectRegistration({ ...good, id: 'AAAAAAAAAAAAAAAAAAAAAA', rawId: 'AAAAAAAAAAAAAAAAAAAAAA' }, rp))).toBe('PASSKEY_RESPONSE_INVALID');
    expect(code(() => inspectRegistration(authenticator().register(creation, { type: 'webauthn.get' }), rp))).toBe('PASSKEY_RESPONSE_INVALID');
  });

  it('names what is wrong: origin, RP ID, user verification', () => {
    expect(code(() => inspectRegistration(authenticator().register(creation, { origin: 'https://id.example.com.evil.test' }), rp))).toBe('PASSKEY_ORIGIN_MISMATCH');
    expect(code(() => inspectRegistration(authenticator().register(creation, { rpId: 'example.com' }), rp))).toBe('PASSKEY_RP_ID_MISMATCH');
    expect(code(() => inspectRegistration(authenticator().register(creation, { uv: false }), rp))).toBe('PASSKEY_USER_NOT_VERIFIED');
    const a = authenticator();
    a.register(creation);
    expect(code(() => inspectAuthentication(a.authenticate(request, { origin: 'http://id.example.com' }), rp))).toBe('PASSKEY_ORIGIN_MISMATCH');
    expect(code(() => inspectAuthentication(a.authenticate(request, { rpId: 'other.example.com' }), rp))).toBe('PASSKEY_RP_ID_MISMATCH');
    expect(code(() => inspectAuthentication(a.authenticate(request, { uv: false }), rp))).toBe('PASSKEY_USER_NOT_VERIFIED');
    expect(code(() => inspectAuthentication(a.authenticate(request, { type: 'webauthn.create' }), rp))).toBe('PASSKEY_RESPONSE_INVALID');
    expect(code(() => inspectAuthentication({ ...a.authenticate(request), response: { clientDataJSON: 'e30' } }, rp))).toBe('PASSKEY_RESPONSE_INVALID');
    expect(inspectAuthentication(a.authenticate(request, { counter: 41 }), rp).inspected).toMatchObject({ challenge: 'Y2hhbGxlbmdlLWNoYWxsZW5nZS01Njc4', counter: 41 });
  });

  it('accepts only a growing counter, or zero from an authenticator that keeps none', () => {
    expect(code(() => checkCounter(0, 0))).toBe('accepted');
    expect(code(() => checkCounter(0, 1))).toBe('accepted');
    expect(code(() => checkCounter(5, 6))).toBe('accepted');
    expect(code(() => checkCounter(5, 5))).toBe('PASSKEY_COUNTER_REGRESSED');
    expect(code(() => checkCounter(5, 2))).toBe('PASSKEY_COUNTER_REGRESSED');
    expect(code(() => checkCounter(5, 0))).toBe('PASSKEY_COUNTER_REGRESSED');
  });
});
