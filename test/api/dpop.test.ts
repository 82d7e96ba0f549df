import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpopError, verifyDpopProof, type DpopRequest } from '../../src/api/dpop.js';

const URL_ = 'https://id.example.com/api/v1/face/match';
const TOKEN = 'access-token-123';
const ath = (t: string) => createHash('sha256').update(t).digest('base64url');

describe('DPoP proof check of the Face Match API (RFC 9449 §4.3)', () => {
  let key: CryptoKey;
  let jwk: JWK;
  let jkt: string;
  let now: number;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    jwk = await exportJWK(pair.publicKey);
    jkt = await calculateJwkThumbprint(jwk);
    now = Math.floor(Date.now() / 1000);
  });

  const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    new SignJWT({ htm: 'POST', htu: URL_, iat: now, jti: crypto.randomUUID(), ath: ath(TOKEN), ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header }).sign(key);

  const seen = new Set<string>();
  const request = (p: string, over: Partial<DpopRequest> = {}): DpopRequest => ({
    proof: p,
    method: 'POST',
    url: URL_,
    accessToken: TOKEN,
    jkt,
    algorithms: ['ES256', 'EdDSA'],
    firstUse: async (k) => (seen.has(k) ? false : (seen.add(k), true)),
    now,
    ...over,
  });
  const refusal = async (p: Promise<string> | string, over: Partial<DpopRequest> = {}) => {
    try {
      await verifyDpopProof(request(await p, over));
      return null;
    } catch (err) {
      if (!(err instanceof DpopError)) throw err;
      return err.message;
    }
  };

  it('accepts a proof for this request, this token and this key, once', async () => {
    const p = await proof({ htu: `${URL_}?ignored=1` });
    expect(await refusal(p)).toBeNull();
    expect(await refusal(p)).toMatch(/used before/);
  });

  it('refuses each broken rule with its own message', async () => {
    expect(await refusal(proof({ htm: 'GET' }))).toMatch(/htm must be POST/);
    expect(await refusal(proof({ htu: 'https://id.example.com/api/v1/face/analyze' }))).toMatch(/htu must be/);
    expect(await refusal(proof({ iat: now - 400 }))).toMatch(/iat must be within 300 s/);
    expect(await refusal(proof({ ath: ath('another token') }))).toMatch(/ath is not the hash/);
    expect(await refusal(proof({ jti: undefined }))).toMatch(/needs a jti/);
    expect(await refusal(proof(), { jkt: 'someone-elses-thumbprint' })).toMatch(/another key than the one the access token is bound to/);
    expect(await refusal(proof({}, { typ: 'JWT' }))).toMatch(/not a dpop\+jwt/);
    expect(await refusal(proof(), { algorithms: ['EdDSA'] })).toMatch(/not a dpop\+jwt/);
    expect(await refusal('')).toMatch(/exactly one DPoP proof/);
    const [a, b] = [await proof(), await proof()];
    expect(await refusal(`${a}, ${b}`)).toMatch(/exactly one DPoP proof/);
  });

  it('does not use up the jti of a proof refused for another reason', async () => {
    const jti = crypto.randomUUID();
    expect(await refusal(proof({ jti, htm: 'GET' }))).toMatch(/htm/);
    expect(await refusal(proof({ jti }))).toBeNull();
  });
});
