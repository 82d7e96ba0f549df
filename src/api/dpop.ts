import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

/**
 * A resource server's check of a DPoP proof (RFC 9449 §4.3 and §7.1) for a DPoP-bound access token: one rule, one
 * function. The token endpoint and userinfo are checked by oidc-provider itself; this is for the Face Match API.
 */

/** How far a proof's iat may be from this server's clock, seconds (oidc-provider accepts the same window). */
export const DPOP_IAT_WINDOW = 300;

export class DpopError extends Error {}

export interface DpopRequest {
  /** The DPoP header as received. */
  proof: string;
  method: string;
  /** The request's URL as the client addressed it (ISSUER's origin), without query or fragment. */
  url: string;
  accessToken: string;
  /** The token's binding: the JWK SHA-256 thumbprint in its cnf.jkt. */
  jkt: string;
  algorithms: readonly string[];
  /** Records a proof's jti; false when it was seen before (a replayed proof). */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
  now?: number;
}

const b64sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Exactly one header, a JWS signed by the public key in its own header, of type dpop+jwt with an allowed alg. */
async function signedByEmbeddedKey(proof: string, algorithms: readonly string[]) {
  if (!proof || proof.includes(',')) throw new DpopError('send exactly one DPoP proof header');
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...algorithms] });
    return { payload, jwk: protectedHeader.jwk as JWK };
  } catch {
    throw new DpopError(`the DPoP proof is not a dpop+jwt signed with its header's public key (${algorithms.join(', ')})`);
  }
}

function publicKeyOnly(jwk: JWK): void {
  if ('d' in jwk || 'k' in jwk) throw new DpopError("the DPoP proof's header carries a private key");
}

function sameMethod(payload: JWTPayload, method: string): void {
  if (payload.htm !== method) throw new DpopError(`the DPoP proof's htm must be ${method}`);
}

function sameUrl(payload: JWTPayload, url: string): void {
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) {
    htu.search = '';
    htu.hash = '';
  }
  if (htu?.href !== new URL(url).href) throw new DpopError(`the DPoP proof's htu must be ${url}`);
}

function fresh(payload: JWTPayload, now: number): void {
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > DPOP_IAT_WINDOW) {
    throw new DpopError(`the DPoP proof's iat must be within ${DPOP_IAT_WINDOW} s of the server's time`);
  }
}

function boundToToken(payload: JWTPayload, accessToken: string): void {
  if (payload.ath !== b64sha256(accessToken)) throw new DpopError("the DPoP proof's ath is not the hash of this access token");
}

async function keyOfToken(jwk: JWK, jkt: string): Promise<void> {
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== jkt) throw new DpopError('the DPoP proof is signed with another key than the one the access token is bound to');
}

async function usedOnce(payload: JWTPayload, jkt: string, firstUse: DpopRequest['firstUse']): Promise<void> {
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) throw new DpopError('the DPoP proof needs a jti of at most 256 characters');
  // Remembered for as long as its iat is acceptable, on either side of now.
  if (!(await firstUse(`dpop-jti:${jkt}:${b64sha256(payload.jti)}`, 2 * DPOP_IAT_WINDOW))) throw new DpopError('this DPoP proof was used before: make a new one for every request');
}

/** Resolves when `req.proof` proves possession of the key `req.jkt` for this request and this token; DpopError otherwise. */
export async function verifyDpopProof(req: DpopRequest): Promise<void> {
  const { payload, jwk } = await signedByEmbeddedKey(req.proof, req.algorithms);
  publicKeyOnly(jwk);
  sameMethod(payload, req.method);
  sameUrl(payload, req.url);
  fresh(payload, req.now ?? Math.floor(Date.now() / 1000));
  boundToToken(payload, req.accessToken);
  await keyOfToken(jwk, req.jkt);
  // Last: a proof refused for another reason does not use up its jti.
  await usedOnce(payload, req.jkt, req.firstUse);
}
