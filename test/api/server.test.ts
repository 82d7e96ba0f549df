import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { discover } from '../helpers/flow.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { ROOT, runCli } from '../helpers/server.js';

const fixture = (name: string) => readFileSync(path.join(ROOT, 'test', 'fixtures', 'api', name));

async function match(server: TestApp, token: string, selfie: Buffer, reference: Buffer) {
  const form = new FormData();
  form.set('selfie', new Blob([new Uint8Array(selfie)], { type: 'image/jpeg' }), 'selfie.jpg');
  form.set('reference', new Blob([new Uint8Array(reference)], { type: 'image/jpeg' }), 'reference.jpg');
  const res = await fetch(`${server.url}/api/v1/face/match`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as { status: boolean; errorCodes: string[]; result: { decision: string; errorCodes: string[] }[] } };
}

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('Face Match API behind real client_credentials tokens', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/5`, SECRET_KEY: TEST_SECRET_KEY };
    server = await startApp(env);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  async function token(scope: string) {
    const created = await runCli(['client', 'create', '--name', `backend ${scope}`, '--grant', 'client_credentials', '--scope', scope, '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout);
    const rp = await discover(server.url, client_id, client_secret, 'http://127.0.0.1:9/cb');
    return { rp, token: (await oidc.clientCredentialsGrant(rp.config, { scope })).access_token };
  }

  it('matches a genuine pair for a client with face:match, and refuses revoked tokens and other scopes', async () => {
    const { rp, token: ok } = await token('face:match');
    const genuine = await match(server, ok, fixture('person-a-1.jpg'), fixture('person-a-2.jpg'));
    expect(genuine.status).toBe(200);
    expect(genuine.body.result[0].decision).toBe('ACCEPTED');

    await oidc.tokenRevocation(rp.config, ok);
    const revoked = await match(server, ok, fixture('person-a-1.jpg'), fixture('person-a-2.jpg'));
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ status: false, errorCodes: ['UNAUTHORIZED'] });

    const { token: other } = await token('email');
    const refused = await match(server, other, fixture('person-a-1.jpg'), fixture('person-a-2.jpg'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: false, errorCodes: ['INSUFFICIENT_SCOPE'] });
  });

  it('applies per-client decision rules registered with the CLI, and refuses malformed ones', async () => {
    const bad = await runCli(['client', 'create', '--name', 'strict', '--grant', 'client_credentials', '--match-rules', '{"minSimilarity":140}'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--match-rules: minSimilarity/);
    const created = await runCli(['client', 'create', '--name', 'needs document', '--grant', 'client_credentials', '--match-rules', '{"documentRequired":true}', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout);
    const rp = await discover(server.url, client_id, client_secret, 'http://127.0.0.1:9/cb');
    const { access_token } = await oidc.clientCredentialsGrant(rp.config, { scope: 'face:match' });
    const res = await match(server, access_token, fixture('person-a-1.jpg'), fixture('person-a-2.jpg'));
    expect(res.body.result[0].decision).not.toBe('ACCEPTED');
    expect(res.body.result[0].errorCodes).toContain('DOCUMENT_REQUIRED');
  });

  it('publishes its OpenAPI document', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toContain('/api/v1/face/match');
  });
});
