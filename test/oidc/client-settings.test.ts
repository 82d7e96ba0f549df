import { describe, expect, it } from 'vitest';
import { ClientError, ClientStore, validateBackchannelLogoutUri, type ClientInput } from '../../src/oidc/clients.js';
import type { Sealer } from '../../src/store/crypto.js';
import type { Prisma } from '../../src/store/database.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ClientError ? `${err.code}: ${err.message}` : err;
  }
};

const development = { allowHttpLoopback: true };
const production = { allowHttpLoopback: false };

/** A store whose database only echoes what would be written: the rules run before any query. */
function store(rules = development) {
  const prisma = { client: { create: async ({ data }: { data: unknown }) => data } } as unknown as Prisma;
  const sealer = { seal: () => Buffer.from('sealed'), open: () => Buffer.from('secret') } as unknown as Sealer;
  return new ClientStore(prisma, sealer, rules);
}
const app = (extra: Partial<ClientInput>): ClientInput => ({ name: 'Ledger', redirectUris: ['https://ledger.example/cb'], ...extra });
const refusedAsync = (promise: Promise<unknown>) => promise.then(() => null, (err: Error) => (err instanceof ClientError ? `${err.code}: ${err.message}` : err));

describe('back-channel logout URI of a client', () => {
  it('accepts an absolute https URI, with a query but no fragment', () => {
    expect(validateBackchannelLogoutUri('https://ledger.example/oidc/backchannel?tenant=1', production)).toBe('https://ledger.example/oidc/backchannel?tenant=1');
    expect(refusal(() => validateBackchannelLogoutUri('https://ledger.example/logout#x', production))).toBe('INVALID_INPUT: back-channel logout URI "https://ledger.example/logout#x" must not contain a fragment');
    expect(refusal(() => validateBackchannelLogoutUri('https://ledger.example/logout#', production))).toMatch(/must not contain a fragment/);
    expect(refusal(() => validateBackchannelLogoutUri('/logout', production))).toBe('INVALID_INPUT: back-channel logout URI "/logout" is not an absolute URL');
    expect(refusal(() => validateBackchannelLogoutUri('https://user:pw@ledger.example/logout', production))).toMatch(/must not contain credentials/);
  });

  it('takes http only to this machine, and only on a development provider (itself on http)', () => {
    for (const uri of ['http://localhost:3000/bcl', 'http://127.0.0.1:9/bcl', 'http://[::1]:8080/bcl', 'http://app.localhost/bcl']) {
      expect(validateBackchannelLogoutUri(uri, development)).toBe(uri);
      expect(refusal(() => validateBackchannelLogoutUri(uri, production))).toBe(`INVALID_INPUT: back-channel logout URI "${uri}" must use https`);
    }
    expect(refusal(() => validateBackchannelLogoutUri('http://ledger.example/bcl', development))).toBe(
      'INVALID_INPUT: back-channel logout URI "http://ledger.example/bcl" must use https (http only to localhost or a loopback address)',
    );
    // Look-alikes of loopback names are other hosts.
    for (const uri of ['http://localhost.evil.example/bcl', 'http://127.0.0.1.nip.io/bcl']) expect(refusal(() => validateBackchannelLogoutUri(uri, development))).toMatch(/must use https/);
    for (const uri of ['ftp://ledger.example/bcl', 'com.ledger.app:/bcl']) expect(refusal(() => validateBackchannelLogoutUri(uri, development))).toMatch(/must use https/);
  });

  it('is stored with the session requirement, and published to oidc-provider as client metadata', async () => {
    const created = (await store().create(app({ backchannelLogoutUri: ' https://ledger.example/bcl ', backchannelLogoutSessionRequired: true }))).client;
    expect(created).toMatchObject({ backchannelLogoutUri: 'https://ledger.example/bcl', backchannelLogoutSessionRequired: true });
    const plain = (await store().create(app({}))).client;
    expect(plain).toMatchObject({ backchannelLogoutUri: null, backchannelLogoutSessionRequired: false });
    // An empty field (the console's) means none.
    expect((await store().create(app({ backchannelLogoutUri: '' }))).client).toMatchObject({ backchannelLogoutUri: null });
  });

  it('refuses sid without a URI, and a URI on an app that signs nobody in, with a clear message', async () => {
    expect(await refusedAsync(store().create(app({ backchannelLogoutSessionRequired: true })))).toBe('INVALID_INPUT: requiring sid in logout tokens needs a back-channel logout URI');
    expect(await refusedAsync(store().create({ name: 'Batch', grantTypes: ['client_credentials'], backchannelLogoutUri: 'https://batch.example/bcl' }))).toBe(
      'INVALID_INPUT: back-channel logout needs an app that signs people in (authorization_code)',
    );
    expect(await refusedAsync(store(production).create(app({ backchannelLogoutUri: 'http://localhost:3000/bcl' })))).toBe('INVALID_INPUT: back-channel logout URI "http://localhost:3000/bcl" must use https');
  });
});
