import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { runCli } from '../helpers/server.js';

describe.runIf(requireService('PostgreSQL', hasPostgres))('face-oidc client create: FAPI 2.0 settings', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-cli-fapi-'));
  const jwksFile = path.join(dir, 'jwks.json');
  const bank = ['client', 'create', '--name', 'Bank', '--redirect-uri', 'https://bank.example/cb', '--json'];

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, SECRET_KEY: TEST_SECRET_KEY, REDIS_URL: '' };
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid: 'bank-1', use: 'sig' }] }));
  });

  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the preset without keys, naming what to give, and creates nothing', async () => {
    const r = await runCli([...bank, '--fapi2'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the FAPI 2.0 preset needs the app's public keys for private_key_jwt: paste its JSON Web Key Set or give its jwks_uri");
    expect(JSON.parse(r.stdout)).toMatchObject({ error: 'INVALID_INPUT' });
    expect(JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout).filter((c: { name: string }) => c.name === 'Bank')).toEqual([]);
  }, 180_000);

  it('creates a FAPI 2.0 app from a JWK Set file: no secret, private_key_jwt, PAR and DPoP required', async () => {
    const r = await runCli([...bank, '--fapi2', '--jwks', jwksFile], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      client_secret: null,
      token_endpoint_auth_method: 'private_key_jwt',
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      fapi2: true,
    });
    const listed = JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout).find((c: { name: string }) => c.name === 'Bank');
    expect(listed).toMatchObject({ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', fapi2: true });
  }, 180_000);

  it('sets PAR and DPoP one by one, and answers a wrong value with the usage', async () => {
    const r = await runCli(['client', 'create', '--name', 'SPA', '--redirect-uri', 'https://spa.example/cb', '--public', '--dpop', 'required', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ token_endpoint_auth_method: 'none', dpop_bound_access_tokens: true, require_pushed_authorization_requests: false, fapi2: false });
    const wrong = await runCli([...bank, '--par', 'sometimes'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--par takes optional or required');
  }, 180_000);
});
