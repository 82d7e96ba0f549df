import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createAdapterFactory, hasAccountIndex } from '../../src/oidc/adapter.js';
import { hasRedis, REDIS_URL, requireService } from '../helpers/env.js';

const kinds = [
  { name: 'memory', redis: () => null },
  ...(requireService('Redis', hasRedis) ? [{ name: 'Redis', redis: () => new Redis(`${REDIS_URL}/6`) }] : []),
];

describe.each(kinds)('account index of the $name adapter', ({ redis }) => {
  const client = redis();
  const { factory, close } = createAdapterFactory({ redis: client, loadClient: async () => undefined });
  const account = `acct-${Math.random().toString(36).slice(2)}`;
  afterAll(async () => {
    close();
    await client?.quit();
  });

  it('lists the live sessions and grants of an account, and forgets ended ones', async () => {
    const sessions = factory('Session');
    const grants = factory('Grant');
    if (!hasAccountIndex(sessions) || !hasAccountIndex(grants)) throw new Error('the Session and Grant adapters must index entries by account');
    await sessions.upsert(`${account}-s1`, { accountId: account, loginTs: 1 }, 60);
    await sessions.upsert(`${account}-s2`, { accountId: account, loginTs: 2 }, 60);
    await sessions.upsert(`${account}-other`, { accountId: `${account}-x`, loginTs: 3 }, 60);
    await sessions.upsert(`${account}-anonymous`, { uid: 'u' }, 60);
    await grants.upsert(`${account}-g1`, { accountId: account, clientId: 'app' }, 60);

    expect((await sessions.findByAccount(account)).map((s) => s.id).sort()).toEqual([`${account}-s1`, `${account}-s2`]);
    expect((await grants.findByAccount(account)).map((g) => g.payload.clientId)).toEqual(['app']);

    await sessions.destroy(`${account}-s1`);
    expect((await sessions.findByAccount(account)).map((s) => s.id)).toEqual([`${account}-s2`]);
    // A session that switched to another account leaves this account's list.
    await sessions.upsert(`${account}-s2`, { accountId: `${account}-x`, loginTs: 4 }, 60);
    expect(await sessions.findByAccount(account)).toEqual([]);
  });

  it('drops entries from the index when they expire', async () => {
    const grants = factory('Grant');
    if (!hasAccountIndex(grants)) throw new Error('the Grant adapter must index entries by account');
    const other = `${account}-expiry`;
    await grants.upsert(`${other}-short`, { accountId: other, clientId: 'short' }, 1);
    await grants.upsert(`${other}-long`, { accountId: other, clientId: 'long' }, 60);
    expect((await grants.findByAccount(other)).map((g) => g.payload.clientId).sort()).toEqual(['long', 'short']);
    // The store's own expiry (Redis TTL, or the memory store's deadline) decides, not a clock in the test.
    await expect.poll(async () => (await grants.findByAccount(other)).map((g) => g.payload.clientId), { timeout: 5000, interval: 250 }).toEqual(['long']);
  });
});
