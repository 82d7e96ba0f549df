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
import { type Bound, type Ceremony, CEREMONY_TIMEOUT_MS, Challenges } from './challenges.js';
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
  /** How it was bound to the account (see Bound). */
  boundWith: string;
  /** Meets the admin console's "passkey + face" rule: from an invitation, or approved by an administrator. */
  adminReady: boolean;
}

/** A key bound after a face challenge alone waits for an administrator before it opens the admin console. */
const adminReady = (p: Pick<Passkey, 'boundWith' | 'approvedAt'>) => p.boundWith === 'invite' || p.approvedAt !== null;

export const summarize = (p: Passkey): PasskeySummary => ({
  id: p.id,
  name: p.name,
  kind: keyAmr(p.backupEligible),
  backedUp: p.backedUp,
  transports: p.transports,
  aaguid: p.aaguid,
  createdAt: p.createdAt,
  lastUsedAt: p.lastUsedAt,
  boundWith: p.boundWith,
  adminReady: adminReady(p),
});

/** Who changes a passkey, for the audit trail: the person themselves or an administrator. */
export type PasskeyActor = { kind: 'self' } | { kind: 'admin'; adminId: string };

/** Request id, client address and app of the surface that asked (filled into the audit events). */
export type PasskeyContext = Pick<AuditInput, 'requestId' | 'ip' | 'userAgent' | 'clientId'>;

export interface PasskeyDeps {
  issuer: string;
  /** Shown by authenticators next to the key. */
  rpName: string;
  store: Pick<PasskeyStore, 'add' | 'byCredentialId' | 'forUser' | 'count' | 'recordUse' | 'rename' | 'remove' | 'approve'>;
  kv: KeyValueStore;
  users: { byId(id: string): Promise<User | null> };
  audit: { record(event: AuditInput): Promise<void> };
}

export const MAX_NAME_LENGTH = 60;
const GRANT_TTL_SECONDS = 600;
/** Time to type the password and answer the authenticator's prompt after the face challenge passed. */
const FACE_PROOF_TTL_SECONDS = 300;

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
   * existing keys excluded so one authenticator is not registered twice. `bound` says what authorised it (the
   * surface checked that before asking); the key is stored with it.
   */
  async registrationOptions(user: Pick<User, 'id' | 'email' | 'name'>, binding: string, bound: Bound): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.deps.store.forUser(user.id);
    return generateRegistrationOptions({
      rpName: this.deps.rpName,
      rpID: this.rp.rpId,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      challenge: await this.challenge({ kind: 'register', userId: user.id, binding, bound }),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /**
   * Verifies a registration answer and stores the key; audited either way. `claim`, when given, is the single-use
   * right the key is added under (an invitation's grant): it is taken after the answer verified and before the key is
   * stored, so of concurrent answers under one right exactly one is stored.
   */
  async register(user: Pick<User, 'id'>, binding: string, input: unknown, rawName: string, actor: PasskeyActor, context: PasskeyContext, claim?: () => Promise<boolean>): Promise<PasskeySummary> {
    try {
      const name = passkeyName(rawName);
      const { response, inspected } = inspectRegistration(input, this.rp);
      const ceremony = await this.ceremony(inspected.challenge, (c) => c.kind === 'register' && c.userId === user.id && c.binding === binding);
      const bound: Bound = ceremony.kind === 'register' ? ceremony.bound : { with: 'face' };
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
      if (claim && !(await claim())) throw new PasskeyError('PASSKEY_GRANT_INVALID');
      const stored = await this.deps.store.add(user.id, {
        credentialId: info.credential.id,
        publicKey: new Uint8Array(info.credential.publicKey),
        counter: info.credential.counter,
        transports: (response.response.transports ?? []).slice(0, 8),
        aaguid: info.aaguid,
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        name,
        boundWith: bound.with,
        approvedAt: bound.with === 'passkey' && bound.approved ? new Date() : null,
      });
      if (!stored) throw new PasskeyError('PASSKEY_ALREADY_REGISTERED');
      const summary = summarize(stored);
      await this.audit('passkey.register', 'success', null, user.id, actor, context, { passkeyId: summary.id, name, kind: summary.kind, backedUp: summary.backedUp, boundWith: bound.with, adminReady: summary.adminReady });
      return summary;
    } catch (err) {
      if (err instanceof PasskeyError) await this.audit('passkey.register', 'failure', err.code, user.id, actor, context, {});
      throw err;
    }
  }

  /**
   * Options for navigator.credentials.get, user verification required: no credential list for a sign-in (no account
   * is named), the account's own keys when `userId` is given (confirming a change with one of them).
   */
  async authenticationOptions(binding: string, userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const keys = userId ? await this.deps.store.forUser(userId) : [];
    return generateAuthenticationOptions({
      rpID: this.rp.rpId,
      challenge: await this.challenge({ kind: 'authenticate', binding }),
      timeout: CEREMONY_TIMEOUT_MS,
      userVerification: 'required',
      ...(userId ? { allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: k.transports })) } : {}),
    });
  }

  /**
   * An assertion of one of the account's own keys, made now, that authorises binding another key (NIST SP 800-63B:
   * authenticate at the level the new authenticator will serve). Checked like a sign-in answer, audited as
   * `passkey.confirm`; returns the key that answered.
   */
  async confirm(binding: string, input: unknown, userId: string, context: PasskeyContext): Promise<PasskeySummary> {
    return (await this.assert(binding, input, { userId }, context, 'passkey.confirm')).passkey;
  }

  /** An administrator's approval of a key for the admin console's "passkey + face" rule; audited. */
  async approve(userId: string, id: string, adminId: string, context: PasskeyContext): Promise<void> {
    if (!(await this.deps.store.approve(userId, id, adminId))) throw new PasskeyError('PASSKEY_NOT_FOUND');
    await this.audit('passkey.approve', 'success', null, userId, { kind: 'admin', adminId }, context, { passkeyId: id });
  }

  /**
   * The account a sign-in answer proves: the credential must be registered — to any account (`'any'`, a sign-in
   * without an email) or to the identified one (`{ userId }`, null for an identifier that matches no account, which
   * no key passes) — its account active, its signature valid and its counter growing. On success the counter and
   * last use are stored; on a refusal nothing is. Audited either way, as `signin.passkey`.
   */
  authenticate(binding: string, input: unknown, expected: 'any' | { userId: string | null }, context: PasskeyContext): Promise<{ user: User; passkey: PasskeySummary; amr: KeyAmr }> {
    return this.assert(binding, input, expected, context, 'signin.passkey');
  }

  private async assert(binding: string, input: unknown, expected: 'any' | { userId: string | null }, context: PasskeyContext, event: string): Promise<{ user: User; passkey: PasskeySummary; amr: KeyAmr }> {
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
      await this.audit(event, 'success', null, user.id, null, context, { passkeyId: key.id, name: key.name, kind: passkey.kind });
      return { user, passkey, amr: passkey.kind };
    } catch (err) {
      if (err instanceof PasskeyError) {
        err.account = owner;
        await this.audit(event, 'failure', err.code, owner, null, context, {});
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

  /**
   * Records that the account's face passed a head-movement challenge just now, in `binding` (an account session):
   * the right to bind the account's first key, for a few minutes, once (NIST SP 800-63B: a new authenticator is
   * bound after authenticating at the level it will serve).
   */
  async proveFace(userId: string, binding: string): Promise<void> {
    await this.deps.kv.set(this.proofKey(userId, binding), '1', FACE_PROOF_TTL_SECONDS);
  }

  async faceProven(userId: string, binding: string): Promise<boolean> {
    return (await this.deps.kv.get(this.proofKey(userId, binding))) !== null;
  }

  /** Uses up the face proof, atomically: of concurrent calls exactly one gets true. */
  async takeFaceProof(userId: string, binding: string): Promise<boolean> {
    return (await this.deps.kv.take(this.proofKey(userId, binding))) !== null;
  }

  private proofKey(userId: string, binding: string) {
    return `passkey-face-proof:${userId}:${createHash('sha256').update(binding).digest('hex')}`;
  }

  /** Uses up the grant, atomically: of concurrent calls for one grant, exactly one gets true. */
  claimGrant(token: string, userId: string): Promise<boolean> {
    return this.deps.kv.takeIfEquals(this.grantKey(token), userId);
  }

  private grantKey(token: string) {
    return `passkey-grant:${createHash('sha256').update(token).digest('hex')}`;
  }

  /** As bytes: the library base64url-encodes them into the options, which is the form the stored key has. */
  private async challenge(ceremony: Ceremony): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(Buffer.from(await this.challenges.issue(ceremony), 'base64url'));
  }

  /** Consumes the challenge the answer signed; it must have been issued for this ceremony. */
  private async ceremony(challenge: string, expected: (c: Ceremony) => boolean): Promise<Ceremony> {
    const ceremony = await this.challenges.take(challenge);
    if (!ceremony || !expected(ceremony)) throw new PasskeyError('PASSKEY_CHALLENGE_INVALID');
    return ceremony;
  }

  private audit(type: string, outcome: 'success' | 'failure', reason: string | null, userId: string | null, actor: PasskeyActor | null, context: PasskeyContext, details: Record<string, unknown>) {
    return this.deps.audit.record({ type, outcome, reason, userId, actorId: actor?.kind === 'admin' ? actor.adminId : actor ? userId : null, ...context, details });
  }
}
