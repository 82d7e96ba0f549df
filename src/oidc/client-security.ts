import { createPublicKey } from 'node:crypto';

/**
 * The FAPI 2.0 Security Profile's building blocks as per-app settings: pushed authorization requests (RFC 9126),
 * DPoP-bound tokens (RFC 9449) and private_key_jwt client authentication with the app's public keys. PKCE S256 and
 * the `iss` authorization response parameter (RFC 9207) apply to every app already (src/oidc/provider.ts).
 */

/** Signature algorithms a private_key_jwt client assertion may use (no HMAC: client_secret_jwt is not offered). */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] as const;

export type Requirement = 'optional' | 'required';

export interface PublicJwks {
  keys: Record<string, unknown>[];
}

export interface SecurityInput {
  par?: Requirement;
  dpop?: Requirement;
  /** The app's public keys, parsed or as JSON text (console, CLI); null removes them. */
  jwks?: PublicJwks | string | null;
  jwksUri?: string | null;
  /** Turns every building block on: PAR and DPoP required, private_key_jwt. */
  fapi2?: boolean;
}

export interface SecuritySettings {
  parRequired: boolean;
  dpopRequired: boolean;
  jwks: PublicJwks | null;
  jwksUri: string | null;
}

export class SecurityError extends Error {}

/** JWK members that only private (or symmetric) keys have. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_KEYS = 10;

/** A JWK Set of public signing keys, as text (console, CLI) or already parsed. */
export function parseJwks(raw: unknown): PublicJwks {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SecurityError('the public keys must be a JSON Web Key Set: {"keys":[{…}]}');
    }
  }
  const keys = (value as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SecurityError('the JSON Web Key Set needs a non-empty "keys" array');
  if (keys.length > MAX_KEYS) throw new SecurityError(`the JSON Web Key Set may hold at most ${MAX_KEYS} keys`);
  const kids = new Set<string>();
  keys.forEach((key: unknown, i) => checkPublicKey(key, i + 1, kids));
  return { keys: keys as Record<string, unknown>[] };
}

function checkPublicKey(key: unknown, n: number, kids: Set<string>): void {
  if (!key || typeof key !== 'object' || Array.isArray(key)) throw new SecurityError(`key ${n} of the JSON Web Key Set is not a JWK object`);
  const jwk = key as Record<string, unknown>;
  const secret = PRIVATE_MEMBERS.find((m) => m in jwk);
  if (secret) throw new SecurityError(`key ${n} has the private member "${secret}": register public keys only, never the private key`);
  if (!['RSA', 'EC', 'OKP'].includes(String(jwk.kty))) throw new SecurityError(`key ${n} has kty "${String(jwk.kty)}": only RSA, EC and OKP signing keys are accepted`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new SecurityError(`key ${n} is for use "${String(jwk.use)}": client authentication needs signing keys (use "sig")`);
  if (jwk.alg !== undefined && !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(String(jwk.alg))) {
    throw new SecurityError(`key ${n} has alg "${String(jwk.alg)}": supported are ${CLIENT_ASSERTION_ALGS.join(', ')}`);
  }
  if (typeof jwk.kid === 'string') {
    if (kids.has(jwk.kid)) throw new SecurityError(`two keys have the kid "${jwk.kid}"`);
    kids.add(jwk.kid);
  }
  try {
    createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch {
    throw new SecurityError(`key ${n} is not a valid ${String(jwk.kty)} public key`);
  }
}

/**
 * The keys' URL: https. oidc-provider fetches it with SSRF protection, so it must also resolve to a public address
 * (loopback and private networks are refused when the keys are fetched).
 */
export function validateJwksUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new SecurityError(`jwks_uri "${uri}" is not an absolute URL`);
  }
  if (url.hash) throw new SecurityError(`jwks_uri "${uri}" must not contain a fragment`);
  if (url.username || url.password) throw new SecurityError(`jwks_uri "${uri}" must not carry credentials`);
  if (url.protocol !== 'https:') throw new SecurityError(`jwks_uri "${uri}" must use https`);
  return url.href;
}

interface Context {
  /** The client authentication method after this change. */
  method: string;
  /** Whether the app signs people in (authorization code); PAR only concerns those. */
  interactive: boolean;
}

/**
 * The settings an app ends up with: `input` over `existing` (an update changes only what it names), checked as a
 * whole so that no combination that cannot work is stored.
 */
export function resolveSecurity(input: SecurityInput, existing: SecuritySettings | null, ctx: Context): SecuritySettings {
  const jwks = input.jwks === undefined ? (existing?.jwks ?? null) : input.jwks === null ? null : parseJwks(input.jwks);
  const jwksUri = input.jwksUri === undefined ? (existing?.jwksUri ?? null) : input.jwksUri ? validateJwksUri(input.jwksUri.trim()) : null;
  const settings: SecuritySettings = {
    parRequired: input.fapi2 ? ctx.interactive : input.par === undefined ? (existing?.parRequired ?? false) : input.par === 'required',
    dpopRequired: input.fapi2 ? true : input.dpop === undefined ? (existing?.dpopRequired ?? false) : input.dpop === 'required',
    jwks,
    jwksUri,
  };
  const hasKeys = Boolean(settings.jwks || settings.jwksUri);
  if (input.fapi2 && ctx.method !== 'private_key_jwt') {
    throw new SecurityError('the FAPI 2.0 preset authenticates the app with private_key_jwt: choose that method');
  }
  if (input.fapi2 && !hasKeys) {
    throw new SecurityError("the FAPI 2.0 preset needs the app's public keys for private_key_jwt: paste its JSON Web Key Set or give its jwks_uri");
  }
  if (settings.jwks && settings.jwksUri) throw new SecurityError('give the public keys either as a JSON Web Key Set or as a jwks_uri, not both');
  if (ctx.method === 'private_key_jwt' && !hasKeys) {
    throw new SecurityError("private_key_jwt needs the app's public keys: paste its JSON Web Key Set or give its jwks_uri");
  }
  if (ctx.method !== 'private_key_jwt' && hasKeys) {
    throw new SecurityError('public keys are used only for private_key_jwt client authentication: choose that method or remove the keys');
  }
  if (settings.parRequired && !ctx.interactive) {
    throw new SecurityError('requiring pushed authorization requests only concerns apps that sign people in (authorization code grant)');
  }
  return settings;
}

/** Whether an app has every FAPI 2.0 building block on (what the preset sets). */
export function isFapi2(c: { tokenEndpointAuthMethod: string; dpopRequired: boolean; parRequired: boolean; grantTypes: string[] }): boolean {
  return c.tokenEndpointAuthMethod === 'private_key_jwt' && c.dpopRequired && (c.parRequired || !c.grantTypes.includes('authorization_code'));
}
