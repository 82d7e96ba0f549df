import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/users.js';
import type { AuditInput } from '../../src/audit/index.js';
import { PasskeyError, Passkeys, type NewPasskey, type PasskeyStore } from '../../src/passkeys/index.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

type Row = Awaited<ReturnType<PasskeyStore['forUser']>>[number];

/** The store's contract in memory: unique credential ids, compare-and-set counters. */
function memoryStore() {
  const rows: Row[] = [];
  return {
    rows,
    async add(userId: string, key: NewPasskey) {
      if (rows.some((r) => r.credentialId === key.credentialId)) return null;
      const row: Row = { id: randomUUID(), userId, ...key, publicKey: key.publicKey, counter: BigInt(key.counter), createdAt: new Date(), lastUsedAt: null, approvedBy: null };
      rows.push(row);
      return row;
    },
    byCredentialId: async (id: string) => rows.find((r) => r.credentialId === id) ?? null,
    forUser: async (userId: string) => rows.filter((r) => r.userId === userId),
    count: async (userId: string) => rows.filter((r) => r.userId === userId).length,
    async recordUse(id: string, from: bigint, counter: number, backedUp: boolean) {
      const row = rows.find((r) => r.id === id && r.counter === from);
      if (!row) return false;
      Object.assign(row, { counter: BigInt(counter), backedUp, lastUsedAt: new Date() });
      return true;
    },
    async rename(userId: string, id: string, name: string) {
      const row = rows.find((r) => r.id === id && r.userId === userId);
      if (row) row.name = name;
      return Boolean(row);
    },
    async approve(userId: string, id: string, adminId: string) {
      const row = rows.find((r) => r.id === id && r.userId === userId);
      if (row) Object.assign(row, { approvedAt: new Date(), approvedBy: adminId });
      return Boolean(row);
    },
    async remove(userId: string, id: string) {
      const i = rows.findIndex((r) => r.id === id && r.userId === userId);
      return i < 0 ? null : rows.splice(i, 1)[0];
    },
  };
}

const ISSUER = 'https://id.example.com';
const user = (status: 'ACTIVE' | 'DISABLED' = 'ACTIVE') => ({ id: randomUUID(), email: `${randomUUID()}@example.com`, name: 'Kim', status }) as User;
const context = { requestId: 'r', ip: '203.0.113.9', userAgent: 'test', clientId: 'app' };

async function refused(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (err) {
    if (err instanceof PasskeyError) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('passkey ceremonies', () => {
  let store: ReturnType<typeof memoryStore>;
  let users: Map<string, User>;
  let audit: AuditInput[];
  let passkeys: Passkeys;
  let kim: User;
  let key: SoftAuthenticator;

  async function registerKey(owner: User, authenticator: SoftAuthenticator, binding = 'session-1') {
    const options = await passkeys.registrationOptions(owner, binding, { with: 'face' });
    return passkeys.register(owner, binding, authenticator.register(options), 'Laptop', { kind: 'self' }, context);
  }

  const signIn = async (authenticator: SoftAuthenticator, tamper = {}, expected: 'any' | { userId: string | null } = 'any') =>
    passkeys.authenticate('ix-1', authenticator.authenticate(await passkeys.authenticationOptions('ix-1'), tamper), expected, context);

  beforeEach(async () => {
    store = memoryStore();
    users = new Map();
    audit = [];
    passkeys = new Passkeys({ issuer: ISSUER, rpName: 'test', store, kv: memoryKeyValueStore(), users: { byId: async (id) => users.get(id) ?? null }, audit: { record: async (e) => void audit.push(e) } });
    kim = user();
    users.set(kim.id, kim);
    key = new SoftAuthenticator('id.example.com', ISSUER);
    await registerKey(kim, key);
  });

  it('asks for a discoverable credential with user verification, and excludes keys already registered', async () => {
    const options = await passkeys.registrationOptions(kim, 'session-1', { with: 'face' });
    expect(options.rp).toEqual({ name: 'test', id: 'id.example.com' });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(options.attestation).toBe('none');
    expect(options.excludeCredentials?.map((c) => c.id)).toEqual([key.id]);
    expect(options.user.id).toBe(Buffer.from(kim.id).toString('base64url'));
    const request = await passkeys.authenticationOptions('ix-1');
    expect(request).toMatchObject({ rpId: 'id.example.com', userVerification: 'required' });
    expect(request.allowCredentials ?? []).toEqual([]);
  });

  it('stores a registered key with its counter, and audits the registration', () => {
    expect(store.rows).toHaveLength(1);
    expect(store.rows[0]).toMatchObject({ userId: kim.id, credentialId: key.id, counter: 0n, backupEligible: false, name: 'Laptop', transports: ['internal'] });
    expect(audit).toEqual([expect.objectContaining({ type: 'passkey.register', outcome: 'success', userId: kim.id, actorId: kim.id, clientId: 'app' })]);
  });

  it('signs in with the key: the account, hwk for a device-bound key and swk for a synced one, the counter stored', async () => {
    const result = await signIn(key);
    expect(result).toMatchObject({ user: { id: kim.id }, amr: 'hwk' });
    expect(store.rows[0].counter).toBe(1n);
    expect(store.rows[0].lastUsedAt).toBeInstanceOf(Date);
    expect(audit.at(-1)).toMatchObject({ type: 'signin.passkey', outcome: 'success', userId: kim.id });

    const synced = new SoftAuthenticator('id.example.com', ISSUER, { backupEligible: true });
    await registerKey(kim, synced);
    expect((await signIn(synced)).amr).toBe('swk');
  });

  it('refuses a replayed answer and stores nothing', async () => {
    const options = await passkeys.authenticationOptions('ix-1');
    const answer = key.authenticate(options);
    await passkeys.authenticate('ix-1', answer, 'any', context);
    const after = { ...store.rows[0] };
    expect(await refused(passkeys.authenticate('ix-1', answer, 'any', context))).toBe('PASSKEY_CHALLENGE_INVALID');
    expect(store.rows[0]).toEqual(after);
  });

  it('refuses an answer to a challenge issued to another sign-in, or never issued', async () => {
    const options = await passkeys.authenticationOptions('ix-other');
    expect(await refused(passkeys.authenticate('ix-1', key.authenticate(options), 'any', context))).toBe('PASSKEY_CHALLENGE_INVALID');
    expect(await refused(passkeys.authenticate('ix-1', key.authenticate({ challenge: 'bm90LWlzc3VlZC1ieS10aGUtc2VydmVy' } as never), 'any', context))).toBe('PASSKEY_CHALLENGE_INVALID');
  });

  it('refuses a counter that goes backwards, a bad signature and the wrong origin, storing nothing', async () => {
    await signIn(key, { counter: 10 });
    for (const [tamper, expected] of [
      [{ counter: 10 }, 'PASSKEY_COUNTER_REGRESSED'],
      [{ counter: 3 }, 'PASSKEY_COUNTER_REGRESSED'],
      [{ badSignature: true }, 'PASSKEY_SIGNATURE_INVALID'],
      [{ origin: 'https://evil.example.net' }, 'PASSKEY_ORIGIN_MISMATCH'],
      [{ rpId: 'evil.example.net' }, 'PASSKEY_RP_ID_MISMATCH'],
      [{ uv: false }, 'PASSKEY_USER_NOT_VERIFIED'],
    ] as const) {
      expect(await refused(signIn(key, tamper))).toBe(expected);
    }
    expect(store.rows[0].counter).toBe(10n);
    expect(audit.filter((e) => e.type === 'signin.passkey' && e.outcome === 'failure').map((e) => e.reason)).toEqual([
      'PASSKEY_COUNTER_REGRESSED',
      'PASSKEY_COUNTER_REGRESSED',
      'PASSKEY_SIGNATURE_INVALID',
      'PASSKEY_ORIGIN_MISMATCH',
      'PASSKEY_RP_ID_MISMATCH',
      'PASSKEY_USER_NOT_VERIFIED',
    ]);
  });

  it('refuses an unknown key, a key of another account, and the key of a disabled account', async () => {
    expect(await refused(signIn(new SoftAuthenticator('id.example.com', ISSUER)))).toBe('PASSKEY_UNKNOWN');
    expect(await refused(signIn(key, {}, { userId: randomUUID() }))).toBe('PASSKEY_UNKNOWN');
    // An identifier that matches no account: no key passes.
    expect(await refused(signIn(key, {}, { userId: null }))).toBe('PASSKEY_UNKNOWN');
    expect((await signIn(key, {}, { userId: kim.id })).user.id).toBe(kim.id);
    users.set(kim.id, { ...kim, status: 'DISABLED' });
    const counter = store.rows[0].counter;
    expect(await refused(signIn(key))).toBe('PASSKEY_ACCOUNT_DISABLED');
    expect(store.rows[0].counter).toBe(counter);
  });

  it('refuses a second registration of the same key and a bad registration, audited, storing nothing', async () => {
    // The browser would refuse (excludeCredentials); a direct post still must not register the key twice.
    expect(await refused(registerKey(kim, key))).toBe('PASSKEY_ALREADY_REGISTERED');
    const other = user();
    users.set(other.id, other);
    expect(await refused(registerKey(other, key))).toBe('PASSKEY_ALREADY_REGISTERED');
    const options = await passkeys.registrationOptions(kim, 'session-1', { with: 'face' });
    const fresh = new SoftAuthenticator('id.example.com', ISSUER);
    expect(await refused(passkeys.register(kim, 'session-2', fresh.register(options), 'x', { kind: 'self' }, context))).toBe('PASSKEY_CHALLENGE_INVALID');
    const again = await passkeys.registrationOptions(kim, 'session-1', { with: 'face' });
    expect(await refused(passkeys.register(kim, 'session-1', fresh.register(again, { origin: 'https://evil.example.net' }), 'x', { kind: 'self' }, context))).toBe('PASSKEY_ORIGIN_MISMATCH');
    expect(await refused(passkeys.register(kim, 'session-1', fresh.register(again), ' \u0007 ', { kind: 'self' }, context))).toBe('PASSKEY_NAME_INVALID');
    expect(store.rows).toHaveLength(1);
    expect(audit.filter((e) => e.type === 'passkey.register' && e.outcome === 'failure')).toHaveLength(5);
  });

  it('renames and removes only the account’s own keys, recording who did it', async () => {
    const [row] = store.rows;
    const stranger = user();
    expect(await refused(passkeys.rename(stranger.id, row.id, 'Mine now', { kind: 'self' }, context))).toBe('PASSKEY_NOT_FOUND');
    await passkeys.rename(kim.id, row.id, '  Phone  ', { kind: 'self' }, context);
    expect(row.name).toBe('Phone');
    expect(await refused(passkeys.remove(stranger.id, row.id, { kind: 'self' }, context))).toBe('PASSKEY_NOT_FOUND');
    const adminId = randomUUID();
    await passkeys.remove(kim.id, row.id, { kind: 'admin', adminId }, context);
    expect(store.rows).toHaveLength(0);
    expect(audit.at(-1)).toMatchObject({ type: 'passkey.remove', userId: kim.id, actorId: adminId, details: { by: 'admin' } });
    expect(await refused(signIn(key))).toBe('PASSKEY_UNKNOWN');
  });
});
