import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { Agent } from '../helpers/browserless.js';
import { authorizationUrl, discover, exchange, passwordSignIn } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';

const REDIRECT = 'http://127.0.0.1:9/cb';

describe('embedded default (PGlite + in-memory state)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-embedded-'));
  const env = { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', SECRET_KEY: '' };
  let server: ServerProcess;
  let client: { client_id: string; client_secret: string };
  let cliOutput = '';

  beforeAll(async () => {
    const user = await runCli(['user', 'create', '--email', 'bob@example.com', '--name', 'Bob', '--password', 'a long enough password'], env);
    expect(user.code, user.stderr).toBe(0);
    const created = await runCli(['client', 'create', '--name', 'Embedded RP', '--redirect-uri', REDIRECT, '--allow-password', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    client = JSON.parse(created.stdout);
    cliOutput = user.stderr + created.stderr;
    server = await startServerProcess(env);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says it runs on the embedded database and memory state, and prints the bootstrap and demo links', () => {
    const out = server.output();
    expect(out).toMatch(/embedded database \(PGlite\): one process only/);
    expect(out).toMatch(/in-memory session state/);
    expect(out).toContain(`${server.url}/demo`);
    expect(server.bootstrapLink()).toMatch(/\/bootstrap\/[\w-]{20,}$/);
  });

  // oidc-provider 9 warns on every start and CLI command below Node.js 22. On 20.19 the warning is there (so this
  // reads the right output); on 22+ (CI's second run uses 24 LTS) neither the server nor the CLI may print it.
  it('prints no "Unsupported runtime" warning on Node.js 22 or later', () => {
    const warned = /Unsupported runtime/;
    const major = Number(process.versions.node.split('.')[0]);
    console.log(`Node.js ${process.versions.node}: server warned ${warned.test(server.output())}, CLI warned ${warned.test(cliOutput)}`);
    expect(warned.test(server.output())).toBe(major < 22);
    expect(warned.test(cliOutput)).toBe(major < 22);
  });

  it('completes a code flow', async () => {
    const rp = await discover(server.url, client.client_id, client.client_secret, REDIRECT);
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    const tokens = await exchange(rp, start, await passwordSignIn(new Agent(), start, 'bob@example.com', 'a long enough password'));
    expect(tokens.claims()).toMatchObject({ amr: ['pwd'], acr: ACR.password });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ email: 'bob@example.com', name: 'Bob' });
  });

  it('refuses CLI commands while the server holds the embedded database', async () => {
    const r = await runCli(['user', 'list', '--json'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/in use by the face-oidc server/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: 'DatabaseBusyError' });
  });

  it('serves the demo app', async () => {
    const res = await fetch(`${server.url}/demo`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-testid="demo-signin"');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('creates the first admin once through the bootstrap link', async () => {
    const link = server.bootstrapLink()!;
    const agent = new Agent();
    const page = await agent.request(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    const form = { email: 'root@example.com', name: 'Root Admin', password: 'bootstrap password 1', password_confirm: 'bootstrap password 1' };
    const done = await agent.submit(link, html, link, form, () => true);
    expect(done.res.status).toBe(302);
    // Created as an administrator and sent on to enroll their face (the console needs a face sign-in).
    expect(new URL(done.url).pathname).toMatch(/^\/enroll\/[\w-]+$/);
    const again = await agent.request(link);
    expect(again.status).toBe(410);
  });

  it('answers health, readiness and metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: true, store: true, models: true } });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/readyz"/);
  });

  it('drains and exits cleanly on SIGTERM, releasing the embedded database', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    const r = await runCli(['user', 'list', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).map((u: { email: string }) => u.email)).toEqual(['bob@example.com', 'root@example.com']);
  });
});
