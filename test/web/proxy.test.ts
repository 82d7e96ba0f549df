import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { clientIpResolver } from '../../src/web/client-ip.js';
import { rateKeyForIp } from '../../src/web/rate-limit.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';

const REDIRECT = 'http://127.0.0.1:9/cb';
const POSTS = 100;
/** RATE_LIMIT_PER_IP_PER_MINUTE's default. */
const PER_MINUTE = 60;

const octet = () => randomInt(1, 255);
/** A fresh address per run: the rate-limit counters live in the Redis every test shares. */
const randomV4 = () => `198.${18 + randomInt(0, 2)}.${octet()}.${octet()}`;
const hex = () => randomInt(0, 0x10000).toString(16);
const randomPrefix64 = () => `2001:db8:${hex()}:${hex()}`;

/** Rate-limit windows are whole minutes: start a burst early in one, so that it is counted in one window. */
async function startOfWindow() {
  const left = 60 - ((Date.now() / 1000) % 60);
  if (left < 20) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 100));
}

describe('client address behind proxies', () => {
  const resolver = (trustProxy: string) => clientIpResolver(loadConfig({ TRUST_PROXY: trustProxy }).proxy);
  const none = resolver('');
  const oneHop = resolver('1');
  const twoHops = resolver('2');
  const listed = resolver('10.0.0.1, 192.0.2.0/24, 2001:db8:ffff::/48');

  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(none('203.0.113.5', '1.2.3.4')).toBe('203.0.113.5');
    expect(none('::ffff:203.0.113.5', undefined)).toBe('203.0.113.5');
  });

  it('takes the address the outermost trusted hop saw, whatever the client prepended', () => {
    expect(oneHop('10.0.0.1', '6.6.6.6, 203.0.113.5')).toBe('203.0.113.5');
    expect(twoHops('10.0.0.1', '6.6.6.6, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
    expect(oneHop('10.0.0.1', undefined)).toBe('10.0.0.1');
  });

  it('with a list of proxies, takes the right-most address that is not one of them', () => {
    expect(listed('10.0.0.1', '6.6.6.6, 203.0.113.5, 192.0.2.7')).toBe('203.0.113.5');
    expect(listed('10.0.0.1', '2001:db8:1::9, 2001:db8:ffff:1::1')).toBe('2001:db8:1::9');
    // A peer that is not a listed proxy is the client, whatever it claims.
    expect(listed('203.0.113.9', '6.6.6.6')).toBe('203.0.113.9');
    // Only proxies in the chain: the left-most one is as far as we can see.
    expect(listed('10.0.0.1', '192.0.2.1, 192.0.2.2')).toBe('192.0.2.1');
  });

  it('buckets IPv6 clients by /64 and IPv4 clients by address', () => {
    expect(rateKeyForIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe(rateKeyForIp('2001:db8:1:2::1'));
    expect(rateKeyForIp('2001:db8:1:2::1')).not.toBe(rateKeyForIp('2001:db8:1:3::1'));
    expect(rateKeyForIp('2001:0db8:0001:0002::1')).toBe(rateKeyForIp('2001:db8:1:2::ffff'));
    expect(rateKeyForIp('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(rateKeyForIp('203.0.113.5')).not.toBe(rateKeyForIp('203.0.113.6'));
  });
});

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('per-IP limits behind a trusted proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let client: { client_id: string; client_secret: string };
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/9`, SECRET_KEY: TEST_SECRET_KEY };
    const created = await runCli(['client', 'create', '--name', 'Proxy RP', '--redirect-uri', REDIRECT, '--allow-password', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    client = JSON.parse(created.stdout);
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await db?.drop();
  });

  async function serve(trustProxy: string) {
    const server = await startServerProcess({ ...env, TRUST_PROXY: trustProxy });
    servers.push(server);
    return server;
  }

  /** POSTS identifier submissions on one sign-in page, each with the X-Forwarded-For header `forwarded(i)`. */
  async function identifyBurst(server: ServerProcess, forwarded: (i: number) => string): Promise<number[]> {
    const rp = await discover(server.url, client.client_id, client.client_secret, REDIRECT);
    const agent = new Agent();
    const { res, url } = await agent.follow((await authorizationUrl(rp)).url.href);
    const html = await res.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const action = new URL(/action="([^"]+identify)"/.exec(html)![1], url).href;
    await startOfWindow();
    const statuses: number[] = [];
    for (let i = 0; i < POSTS; i++) {
      const post = await agent.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwarded(i) },
        body: new URLSearchParams({ _csrf: csrf, email: `someone-${i}@example.com` }),
      });
      statuses.push(post.status);
      await post.arrayBuffer();
    }
    return statuses;
  }

  const limited = (statuses: number[]) => statuses.filter((s) => s === 429).length;

  it('limits a client that rotates X-Forwarded-For through one trusted hop (TRUST_PROXY=1)', async () => {
    const server = await serve('1');
    const client = randomV4();
    const statuses = await identifyBurst(server, () => `${randomV4()}, ${randomV4()}, ${client}`);
    console.log(`identify posts with rotating X-Forwarded-For answered 429: ${limited(statuses)} of ${POSTS}`);
    expect(statuses.slice(0, PER_MINUTE).includes(429)).toBe(false);
    expect(limited(statuses)).toBe(POSTS - PER_MINUTE);
  });

  it('counts every address of one IPv6 /64 in one bucket, and another /64 apart', async () => {
    const server = servers[0];
    const prefix = randomPrefix64();
    const statuses = await identifyBurst(server, () => `${randomV4()}, ${prefix}:${hex()}:${hex()}:${hex()}:${hex()}`);
    console.log(`identify posts from one IPv6 /64 answered 429: ${limited(statuses)} of ${POSTS}`);
    expect(limited(statuses)).toBe(POSTS - PER_MINUTE);
    const neighbour = await identifyBurst(server, () => `${randomPrefix64()}::1`);
    expect(limited(neighbour)).toBe(0);
  });

  it('with a list of proxy addresses, takes the right-most address that is not a proxy', async () => {
    // The test connects from loopback, which stands for the outer proxy; 192.0.2.10 is an inner one.
    const server = await serve('127.0.0.1, ::1, 192.0.2.0/24');
    const client = randomV4();
    const statuses = await identifyBurst(server, () => `${randomV4()}, ${client}, 192.0.2.10`);
    expect(limited(statuses)).toBe(POSTS - PER_MINUTE);
  });
});
