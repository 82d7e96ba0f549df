import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactedUrl } from '../../src/ops/http.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';

const secret = () => `s3cr3t${randomBytes(12).toString('hex')}`;

interface LogLine {
  msg: string;
  path?: string;
  route?: string;
  query?: Record<string, string>;
}

describe('redacted request paths and queries', () => {
  it('keeps the shape of the URL and drops what would let a reader act as the visitor', () => {
    expect(redactedUrl('/enroll/abc123', '')).toEqual({ path: '/enroll/[redacted]', query: undefined });
    expect(redactedUrl('/enroll/abc123/photo', '')).toEqual({ path: '/enroll/[redacted]/photo', query: undefined });
    expect(redactedUrl('/bootstrap/abc123', '')).toEqual({ path: '/bootstrap/[redacted]', query: undefined });
    expect(redactedUrl('/demo/callback', 'code=c&state=s&iss=http%3A%2F%2Fx')).toEqual({
      path: '/demo/callback',
      query: { code: '[redacted]', state: '[redacted]', iss: 'http://x' },
    });
    expect(redactedUrl('/auth', 'client_id=app&id_token_hint=h&login_hint=ada%40example.com&scope=openid')).toEqual({
      path: '/auth',
      query: { client_id: 'app', id_token_hint: '[redacted]', login_hint: '[redacted]', scope: 'openid' },
    });
  });
});

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('request log of a running server', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/10`, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  function requestLines(): LogLine[] {
    return server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.msg === 'request');
  }

  it('never writes invite, bootstrap or protocol secrets to the log', async () => {
    const secrets = Array.from({ length: 9 }, secret);
    const [invite, bootstrap, code, state, hint, token, demoCode, demoState, logoutHint] = secrets;
    const urls = [
      `/enroll/${invite}`,
      `/enroll/${invite}/done`,
      `/bootstrap/${bootstrap}`,
      `/auth?client_id=face-oidc-demo&response_type=code&scope=openid&code=${code}&state=${state}&id_token_hint=${hint}&token=${token}`,
      `/demo/callback?code=${demoCode}&state=${demoState}`,
      `/session/end?id_token_hint=${logoutHint}`,
    ];
    for (const u of urls) await (await fetch(`${server.url}${u}`, { redirect: 'manual' })).arrayBuffer();
    await expect.poll(() => requestLines().filter((l) => l.path === '/session/end').length, { timeout: 10_000 }).toBe(1);

    const out = server.output();
    const leaked = secrets.filter((s) => out.includes(s));
    console.log(`secrets from ${urls.length} requests found in the log: ${leaked.length} of ${secrets.length}`);
    expect(leaked).toEqual([]);
    const lines = requestLines();
    expect(lines.map((l) => l.path)).toEqual(expect.arrayContaining(['/enroll/[redacted]', '/enroll/[redacted]/done', '/bootstrap/[redacted]', '/auth', '/demo/callback']));
    expect(lines.find((l) => l.path === '/auth')?.query).toMatchObject({ client_id: 'face-oidc-demo', code: '[redacted]', state: '[redacted]', id_token_hint: '[redacted]', token: '[redacted]' });
  });
});
