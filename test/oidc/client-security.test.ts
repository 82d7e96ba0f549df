import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isFapi2, parseJwks, resolveSecurity, SecurityError, validateJwksUri } from '../../src/oidc/client-security.js';

const ecPublic = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const ecPrivate = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
const web = { method: 'client_secret_basic', interactive: true };
const keys = { method: 'private_key_jwt', interactive: true };

/** The message a refused setting gets, or null when it is accepted. */
function refusal(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof SecurityError)) throw err;
    return err.message;
  }
}

describe('client security settings (FAPI 2.0 building blocks)', () => {
  it('gives new apps the defaults: PAR and DPoP optional, no keys', () => {
    expect(resolveSecurity({}, null, web)).toEqual({ parRequired: false, dpopRequired: false, jwks: null, jwksUri: null });
  });

  it('turns everything on with the FAPI 2.0 preset when the app has keys', () => {
    const jwks = { keys: [ecPublic()] };
    const settings = resolveSecurity({ fapi2: true, jwks }, null, keys);
    expect(settings).toEqual({ parRequired: true, dpopRequired: true, jwks, jwksUri: null });
    expect(isFapi2({ tokenEndpointAuthMethod: 'private_key_jwt', grantTypes: ['authorization_code'], ...settings })).toBe(true);
    // A backend app (no authorization requests) gets DPoP; PAR does not concern it.
    expect(resolveSecurity({ fapi2: true, jwksUri: 'https://rp.example/jwks' }, null, { ...keys, interactive: false })).toMatchObject({ parRequired: false, dpopRequired: true });
  });

  it('refuses the FAPI 2.0 preset without keys, with a message that says what to give', () => {
    expect(refusal(() => resolveSecurity({ fapi2: true }, null, keys))).toBe(
      "the FAPI 2.0 preset needs the app's public keys for private_key_jwt: paste its JSON Web Key Set or give its jwks_uri",
    );
    expect(refusal(() => resolveSecurity({ fapi2: true, jwks: { keys: [ecPublic()] } }, null, web))).toMatch(/preset authenticates the app with private_key_jwt/);
  });

  it('refuses private_key_jwt without keys, keys without private_key_jwt, and both kinds of keys at once', () => {
    expect(refusal(() => resolveSecurity({}, null, keys))).toMatch(/^private_key_jwt needs the app's public keys/);
    expect(refusal(() => resolveSecurity({ jwks: { keys: [ecPublic()] } }, null, web))).toMatch(/only for private_key_jwt/);
    expect(refusal(() => resolveSecurity({ jwks: { keys: [ecPublic()] }, jwksUri: 'https://rp.example/jwks' }, null, keys))).toMatch(/not both/);
  });

  it('keeps stored settings an update does not name, and lets it remove keys', () => {
    const stored = { parRequired: true, dpopRequired: true, jwks: null, jwksUri: 'https://rp.example/jwks' };
    expect(resolveSecurity({ dpop: 'optional' }, stored, keys)).toEqual({ ...stored, dpopRequired: false });
    expect(refusal(() => resolveSecurity({ jwksUri: null }, stored, keys))).toMatch(/needs the app's public keys/);
  });

  it('refuses requiring PAR for an app that never sends people to the authorization endpoint', () => {
    expect(refusal(() => resolveSecurity({ par: 'required' }, null, { ...web, interactive: false }))).toMatch(/only concerns apps that sign people in/);
  });

  it('accepts public signing keys only', () => {
    expect(parseJwks(JSON.stringify({ keys: [ecPublic()] })).keys).toHaveLength(1);
    expect(refusal(() => parseJwks({ keys: [ecPrivate()] }))).toBe('key 1 has the private member "d": register public keys only, never the private key');
    expect(refusal(() => parseJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }))).toMatch(/private member "k"/);
    expect(refusal(() => parseJwks({ keys: [{ ...ecPublic(), use: 'enc' }] }))).toMatch(/needs signing keys/);
    expect(refusal(() => parseJwks({ keys: [{ ...ecPublic(), alg: 'HS256' }] }))).toMatch(/alg "HS256"/);
    expect(refusal(() => parseJwks({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] }))).toBe('key 1 is not a valid EC public key');
    expect(refusal(() => parseJwks({ keys: [{ ...ecPublic(), kid: 'a' }, { ...ecPublic(), kid: 'a' }] }))).toMatch(/two keys have the kid "a"/);
    expect(refusal(() => parseJwks('{"keys": ['))).toMatch(/must be a JSON Web Key Set/);
    expect(refusal(() => parseJwks({ keys: [] }))).toMatch(/non-empty "keys" array/);
  });

  it('accepts a jwks_uri over https only', () => {
    expect(validateJwksUri('https://rp.example/.well-known/jwks.json')).toBe('https://rp.example/.well-known/jwks.json');
    expect(refusal(() => validateJwksUri('http://rp.example/jwks'))).toMatch(/must use https/);
    expect(refusal(() => validateJwksUri('https://rp.example/jwks#k'))).toMatch(/fragment/);
    expect(refusal(() => validateJwksUri('jwks.json'))).toMatch(/not an absolute URL/);
  });
});
