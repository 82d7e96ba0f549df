import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { decodeAttestationObject, decodeClientDataJSON, isoBase64URL, parseAuthenticatorData, type ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import { z } from 'zod';
import { PasskeyError } from './errors.js';

/**
 * The checks of a ceremony response that come before its signature, each with its own error code: shape, ceremony
 * type, origin, RP ID, user presence and verification, and the signature counter. @simplewebauthn/server repeats
 * them and verifies the signature; running them first lets a refusal say exactly what was wrong.
 */

/** Where ceremonies must happen: the origin of ISSUER and its host name as RP ID. */
export interface RelyingPartyId {
  origin: string;
  rpId: string;
}

export function relyingPartyOf(issuer: string): RelyingPartyId {
  const url = new URL(issuer);
  return { origin: url.origin, rpId: url.hostname };
}

const b64url = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+={0,2}$/);
const common = { id: b64url, rawId: b64url, type: z.literal('public-key'), clientExtensionResults: z.record(z.string(), z.unknown()).default({}) };

const registrationSchema = z.object({
  ...common,
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  response: z.object({ clientDataJSON: b64url, attestationObject: b64url, transports: z.array(z.string().max(32)).max(8).optional() }).passthrough(),
});

const authenticationSchema = z.object({
  ...common,
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  response: z.object({ clientDataJSON: b64url, authenticatorData: b64url, signature: b64url, userHandle: b64url.optional() }).passthrough(),
});

type Ceremony = 'webauthn.create' | 'webauthn.get';

/** What the response claims before its signature is checked. */
export interface Inspected {
  challenge: string;
  counter: number;
  /** Backup eligible (may be synced) and backed up, as the authenticator reports. */
  backupEligible: boolean;
  backedUp: boolean;
}

function invalid(): never {
  throw new PasskeyError('PASSKEY_RESPONSE_INVALID');
}

function checkClientData(encoded: string, type: Ceremony, rp: RelyingPartyId): string {
  let data;
  try {
    data = decodeClientDataJSON(encoded);
  } catch {
    invalid();
  }
  if (typeof data !== 'object' || data === null || data.type !== type || typeof data.challenge !== 'string' || typeof data.origin !== 'string') invalid();
  // A page of this origin embedded in another site (crossOrigin) is not this site asking.
  if (data.origin !== rp.origin || data.crossOrigin === true) throw new PasskeyError('PASSKEY_ORIGIN_MISMATCH');
  return data.challenge;
}

function checkAuthenticatorData(parsed: ParsedAuthenticatorData, rp: RelyingPartyId): Omit<Inspected, 'challenge'> {
  const expected = createHash('sha256').update(rp.rpId).digest();
  if (!expected.equals(Buffer.from(parsed.rpIdHash))) throw new PasskeyError('PASSKEY_RP_ID_MISMATCH');
  if (!parsed.flags.up || !parsed.flags.uv) throw new PasskeyError('PASSKEY_USER_NOT_VERIFIED');
  return { counter: parsed.counter, backupEligible: parsed.flags.be, backedUp: parsed.flags.bs };
}

function parseAuthData(bytes: Uint8Array<ArrayBuffer>): ParsedAuthenticatorData {
  try {
    return parseAuthenticatorData(bytes);
  } catch {
    return invalid();
  }
}

/** A registration response (navigator.credentials.create) checked up to its attestation. */
export function inspectRegistration(input: unknown, rp: RelyingPartyId): { response: RegistrationResponseJSON; inspected: Inspected } {
  const parsed = registrationSchema.safeParse(input);
  if (!parsed.success) invalid();
  const response = parsed.data as RegistrationResponseJSON;
  const challenge = checkClientData(response.response.clientDataJSON, 'webauthn.create', rp);
  let authData: Uint8Array<ArrayBuffer>;
  try {
    authData = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject)).get('authData');
  } catch {
    invalid();
  }
  if (!(authData instanceof Uint8Array)) invalid();
  const data = parseAuthData(authData);
  if (!data.flags.at || !data.credentialID || !data.credentialPublicKey) invalid();
  // The id the browser reports must be the one the authenticator created.
  if (isoBase64URL.fromBuffer(data.credentialID) !== response.id) invalid();
  return { response, inspected: { challenge, ...checkAuthenticatorData(data, rp) } };
}

/** An authentication response (navigator.credentials.get) checked up to its signature. */
export function inspectAuthentication(input: unknown, rp: RelyingPartyId): { response: AuthenticationResponseJSON; inspected: Inspected } {
  const parsed = authenticationSchema.safeParse(input);
  if (!parsed.success) invalid();
  const response = parsed.data as AuthenticationResponseJSON;
  const challenge = checkClientData(response.response.clientDataJSON, 'webauthn.get', rp);
  const data = parseAuthData(isoBase64URL.toBuffer(response.response.authenticatorData));
  return { response, inspected: { challenge, ...checkAuthenticatorData(data, rp) } };
}

/**
 * WebAuthn §6.1.1: a counter that does not grow past the stored one means the credential may have been cloned.
 * Authenticators without a counter always report 0, which is accepted while the stored value is 0 too.
 */
export function checkCounter(stored: number, received: number): void {
  if ((received > 0 || stored > 0) && received <= stored) throw new PasskeyError('PASSKEY_COUNTER_REGRESSED');
}
