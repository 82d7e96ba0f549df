import { createHash, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { User } from '../accounts/users.js';
import type { AuditInput } from '../audit/index.js';
import type { KeyValueStore } from '../store/kv.js';
import { type Ceremony, CEREMONY_TIMEOUT_MS, Challenges } from './challenges.js';
import { checkCounter, inspectAuthentication, inspectRegistration, relyingPartyOf, type RelyingPartyId } from './checks.js';
import { PasskeyError } from './errors.js';
import type { Passkey, PasskeyStore } from './store.js';

/**
 * RFC 8176 names the key a sign-in proved possession of: `hwk` for a hardware-secured key, `swk` for a
 * software-secured one. A passkey that may be synced between devices (backup eligible) leaves the hardware it was
 * made in, so it is `swk`; a device-bound one is `hwk` (as its authenticator reports: attestation is not asked).
 */
export type KeyAmr = 'hwk' | 'swk';

export const keyAmr = (backupEligible: boolean): KeyAmr => (backupEligible ? 'swk' : 'hwk');

/** A passkey as pages show it: no key material. */
export interface PasskeySummary {
  id: string;
  name: string;
  kind: KeyAmr;
  backedUp: boolean;
  transports: string[];
  aaguid: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const summarize = (p: Passkey): PasskeySummary => ({
  id: p.id,
  name: p.name,
  kind: keyAmr(p.backupEligible),
  backedUp: p.backedUp,
  transports: p.transports,
  aaguid: p.aaguid,
  createdAt: p.createdAt,
  lastUsedAt: p.lastUsedAt,
});

/** Who changes a passkey, for the audit trail: the person themselves or an administrator. */
export type PasskeyActor = { kind: 'self' } | { kind: 'admin'; adminId: string };

/** Request id, client address and app of the surface that asked (filled into the audit events). */
export type PasskeyContext = Pick<AuditInput, 'requestId' | 'ip' | 'userAgent' | 'clientId'>;

export interface PasskeyDeps {
  issuer: string;
  /** Shown by authenticators next to the key. */
  rpName: string;
  store: Pick<PasskeyStore, 'add' | 'byCredentialId' | 'forUser' | 'count' | 'recordUse' | 'rename' | 'remove'>;
  kv: KeyValueStore;
  users: { byId(id: string): Promise<User | null> };
  audit: { record(event: AuditInput): Promise<void> };
}

export const MAX_NAME_LENGTH = 60;
const GRANT_TTL_SECONDS = 600;

/** Trims a friendly name and drops control characters; PasskeyError when nothing usable is left or it is too long. */
export function passkeyName(input: string): string {
  // eslint-disable-next-line no-control-regex
  const name = input.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!name || name.length > MAX_NAME_LENGTH) throw new PasskeyError('PASSKEY_NAME_INVALID');
  return name;
}

/**
 * Passkeys (WebAuthn) for every surface: the ceremonies with user verification required, the RP ID and origin of
 * ISSUER and single-use challenges; the signature counter; listing, renaming and removing keys; and the audit trail
 * of registrations, uses and removals. Every refusal is a PasskeyError, and a refused ceremony stores nothing.
 */
export class Passkeys {
  readonly rp: RelyingPartyId;
  private readonly challenges: Challenges;

  constructor(private readonly deps: PasskeyDeps) {
    this.rp = relyingPartyOf(deps.issuer);
    this.challenges = new Challenges(deps.kv);
  }

  async list(userId: string): Promise<PasskeySummary[]> {
    return (await this.deps.store.forUser(userId)).map(summarize);
  }

  count(userId: string): Promise<number> {
    return this.deps.store.count(userId);
  }

  /**
   * Options for navigator.credentials.create: a discoverable credential (so sign-in needs no email), user
   * verification required, no attestation (nothing about the person's device is collected), and the account's
   * existing keys excluded so one authenticator is not registered twice.
   */
  async registrationOptions(user: Pick<User, 'id' | 'email' | 'name'>, binding: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.deps.store.forUser(user.id);
    return generateRegistrationOptions({
      rpName: this.deps.rpName,
      rpID: this.rp.rpId,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      challenge: await this.challenge({ kind: 'register', userId: user.id, binding }),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /** Verifies a registration answer and stores the key; audited either way. */
  async register(user: Pick<User, 'id'>, binding: string, input: unknown, rawName: string, actor: PasskeyActor, context: PasskeyContext): Promise<PasskeySummary> {
    try {
      const name = passkeyName(rawName);
      const { response, inspected } = inspectRegistration(input, this.rp);
      await this.ceremony(inspected.challenge, (c) => c.kind === 'register' && c.userId === user.id && c.binding === binding);
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: inspected.challenge,
          expectedOrigin: this.rp.origin,
          expectedRPID: this.rp.rpId,
          requireUserVerification: true,
        });
      } catch {
        throw new PasskeyError('PASSKEY_SIGNATURE_INVALID');
      }
      if (!verified.verified) throw new PasskeyError('PASSKEY_SIGNATURE_INVALID');
      const info = verified.registrationInfo;
      const stored = await this.deps.store.add(user.id, {
        credentialId: info.credential.id,
        publicKey: new Uint8Array(info.credential.publicKey),
        counter: info.credential.counter,
        transports: (response.response.transports ?? []).slice(0, 8),
        aaguid: info.aaguid,
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        name,
      });
      if (!stored) throw new PasskeyError('PASSKEY_ALREADY_REGISTERED');
      const summary = summarize(stored);
      await this.audit('passkey.register', 'success', null, user.id, actor, context, { passkeyId: summary.id, name, kind: summary.kind, backedUp: summary.backedUp });
      return summary;
    } catch (err) {
      if (err instanceof PasskeyError) await this.audit('passkey.register', 'failure', err.code, user.id, actor, context, {});
      throw err;
    }
  }

  /** Options for navigator.credentials.get: no credential list (no account is named), user verification required. */
  async authenticationOptions(binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.rp.rpId,
      challenge: await this.challenge({ kind: 'authenticate', binding }),
      timeout: CEREMONY_TIMEOUT_MS,
      userVerification: 'required',
    });
  }

  /**
   * The account a sign-in answer proves: the credential must be registered — to any account (`'any'`, a sign-in
   * without an email) or to the identified one (`{ userId }`, null for an identifier that matches no account, which
   * no key passes) — its account active, its signature valid and its counter growing. On success the counter and
   * last use are stored; on a refusal nothing is. Audited either way, as `signin.passkey`.
   */
  async authenticate(binding: string, input: unknown, expected: 'any' | { userId: string | null }, context: PasskeyContext): Promise<{ user: User; passkey: PasskeySummary; amr: KeyAmr }> {
    let owner: string | null = expected === 'any' ? null : expected.userId;
    try {
      const { response, inspected } = inspectAuthentication(input, this.rp);
      await this.ceremony(inspected.challenge, (c) => c.kind === 'authenticate' && c.binding === binding);
      const key = await this.deps.store.byCredentialId(response.id);
      if (!key || (expected !== 'any' && key.userId !== expected.userId)) throw new PasskeyError('PASSKEY_UNKNOWN');
      owner = key.userId;
      // A user handle, when the authenticator sends one, must name the key's own account.
      if (response.response.userHandle && response.response.userHandle !== Buffer.from(key.userId).toString('base64url')) throw new PasskeyError('PASSKEY_UNKNOWN');
      const user = await this.deps.users.byId(key.userId);
      if (!user) throw new PasskeyError('PASSKEY_UNKNOWN');
      if (user.status !== 'ACTIVE') throw new PasskeyError('PASSKEY_ACCOUNT_DISABLED');
      let verified;
      try {
        // The counter is compared below, once the signature is known to be the key's: only then does a counter that
        // did not grow point to a copied key rather than to a forged answer.
        verified = await verifyAuthenticationResponse({
          response,
          expectedChallenge: inspected.challenge,
          expectedOrigin: this.rp.origin,
          expectedRPID: this.rp.rpId,
          credential: { id: key.credentialId, publicKey: new Uint8Array(key.publicKey), counter: 0, transports: key.transports },
          requireUserVerification: true,
        });
      } catch {
        throw new PasskeyError('PASSKEY_SIGNATURE_INVALID');
      }
      if (!verified.verified) throw new PasskeyError('PASSKEY_SIGNATURE_INVALID');
      const { newCounter, credentialBackedUp } = verified.authenticationInfo;
      checkCounter(Number(key.counter), newCounter);
      if (!(await this.deps.store.recordUse(key.id, key.counter, newCounter, credentialBackedUp))) throw new PasskeyError('PASSKEY_COUNTER_REGRESSED');
      const passkey = summarize({ ...key, backedUp: credentialBackedUp, lastUsedAt: new Date() });
      await this.audit('signin.passkey', 'success', null, user.id, null, context, { passkeyId: key.id, name: key.name, kind: passkey.kind });
      return { user, passkey, amr: passkey.kind };
    } catch (err) {
      if (err instanceof PasskeyError) {
        err.account = owner;
        await this.audit('signin.passkey', 'failure', err.code, owner, null, context, {});
      }
      throw err;
    }
  }

  async rename(userId: string, id: string, rawName: string, actor: PasskeyActor, context: PasskeyContext): Promise<void> {
    const name = passkeyName(rawName);
    if (!(await this.deps.store.rename(userId, id, name))) throw new PasskeyError('PASSKEY_NOT_FOUND');
    await this.audit('passkey.rename', 'success', null, userId, actor, context, { passkeyId: id, name });
  }

  async remove(userId: string, id: string, actor: PasskeyActor, context: PasskeyContext): Promise<PasskeySummary> {
    const removed = await this.deps.store.remove(userId, id);
    if (!removed) throw new PasskeyError('PASSKEY_NOT_FOUND');
    await this.audit('passkey.remove', 'success', null, userId, actor, context, { passkeyId: id, name: removed.name, by: actor.kind });
    return summarize(removed);
  }

  /**
   * A short-lived, single-use right to register one passkey without a session, handed to the browser that has just
   * enrolled its face through an invite link (which already proved who it is).
   */
  async grant(userId: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.deps.kv.set(this.grantKey(token), userId, GRANT_TTL_SECONDS);
    return token;
  }

  /** The account a grant is for, or null once it has expired or was used. */
  granted(token: string): Promise<string | null> {
    return token ? this.deps.kv.get(this.grantKey(token)) : Promise.resolve(null);
  }

  async endGrant(token: string): Promise<void> {
    await this.deps.kv.del(this.grantKey(token));
  }

  private grantKey(token: string) {
    return `passkey-grant:${createHash('sha256').update(token).digest('hex')}`;
  }

  /** As bytes: the library base64url-encodes them into the options, which is the form the stored key has. */
  private async challenge(ceremony: Ceremony): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(Buffer.from(await this.challenges.issue(ceremony), 'base64url'));
  }

  /** Consumes the challenge the answer signed; it must have been issued for this ceremony. */
  private async ceremony(challenge: string, expected: (c: Ceremony) => boolean): Promise<void> {
    const ceremony = await this.challenges.take(challenge);
    if (!ceremony || !expected(ceremony)) throw new PasskeyError('PASSKEY_CHALLENGE_INVALID');
  }

  private audit(type: string, outcome: 'success' | 'failure', reason: string | null, userId: string | null, actor: PasskeyActor | null, context: PasskeyContext, details: Record<string, unknown>) {
    return this.deps.audit.record({ type, outcome, reason, userId, actorId: actor?.kind === 'admin' ? actor.adminId : actor ? userId : null, ...context, details });
  }
}
