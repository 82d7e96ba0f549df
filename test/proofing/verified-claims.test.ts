import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { TRUST_FRAMEWORK } from '../../src/proofing/index.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { authorizationUrl, discover, exchange, signIn, type RpClient } from '../helpers/flow.js';
import { evidence } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const schema = JSON.parse(readFileSync(new URL('../../src/proofing/verified-claims.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

/** What a bank asks for: names and birthdate in the ID token, nationality in userinfo, and how they were verified. */
const ID_TOKEN_REQUEST = {
  verified_claims: {
    verification: { trust_framework: null, time: null, evidence: [{ type: { value: 'document' }, check_details: null, document_details: { type: null, issuer: { country_code: null }, date_of_expiry: null } }] },
    claims: { given_name: null, family_name: null, birthdate: null },
  },
};
const USERINFO_REQUEST = { verified_claims: { verification: { trust_framework: null }, claims: { nationalities: null } } };
const CLAIMS = JSON.stringify({ id_token: ID_TOKEN_REQUEST, userinfo: USERINFO_REQUEST });

describe('verified_claims in ID tokens and userinfo (OpenID Connect for Identity Assurance 1.0)', () => {
  let app: TestApp;
  let bank: RpClient;
  let shop: RpClient;
  let userId: string;
  let dir: string;

  const tokensFor = async (rp: RpClient, consent: Record<string, string> = {}, claims = CLAIMS) => {
    const start = await authorizationUrl(rp, { acr_values: ACR.password, claims });
    const callback = await signIn(new Agent(), start, { email: 'ada@example.com', password: PASSWORD, consent });
    const tokens = await exchange(rp, start, callback);
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${app.url}/jwks`)), { issuer: app.url, audience: rp.config.clientMetadata().client_id });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, payload.sub!);
    return { idToken: payload, userinfo: info };
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proofing-claims-'));
    app = await startApp({ DATA_DIR: dir });
    const s = app.services;
    const user = await s.accounts.create({ email: 'ada@example.com', name: 'Ada', password: PASSWORD });
    userId = user.id;
    await s.proofing.giveConsent(userId);
    await s.proofing.record(userId, evidence());
    const mk = async (name: string) => {
      const { client, clientSecret } = await s.clients.create({ name, redirectUris: [REDIRECT], allowPasswordOnly: true });
      return discover(app.url, client.clientId, clientSecret ?? undefined, REDIRECT);
    };
    bank = await mk('Bank');
    shop = await mk('Shop');
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('advertises identity assurance in discovery', () => {
    const meta = bank.config.serverMetadata() as Record<string, unknown>;
    expect(meta).toMatchObject({
      claims_parameter_supported: true,
      verified_claims_supported: true,
      trust_frameworks_supported: [TRUST_FRAMEWORK],
      evidence_supported: ['document'],
      documents_supported: ['passport', 'idcard', 'residence_permit'],
      documents_check_methods_supported: ['vri', 'bvr'],
      claims_in_verified_claims_supported: ['given_name', 'family_name', 'birthdate', 'nationalities'],
    });
    expect(meta.claims_supported).toContain('verified_claims');
  });

  it('gives an app exactly the requested verified claims, signed, once the person releases them; remembered for the next sign-in', async () => {
    const { idToken, userinfo } = await tokensFor(bank, { share_verified_claims: 'yes' });
    const vc = idToken.verified_claims as Record<string, unknown>;
    expect(validate(vc), JSON.stringify(validate.errors)).toBe(true);
    expect(vc).toEqual({
      verification: {
        trust_framework: TRUST_FRAMEWORK,
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        evidence: [
          {
            type: 'document',
            check_details: [
              { check_method: 'vri', time: expect.any(String) },
              { check_method: 'bvr', time: expect.any(String) },
            ],
            document_details: { type: 'passport', issuer: { country_code: 'GBR' }, date_of_expiry: evidence().document.expiry },
          },
        ],
      },
      claims: { given_name: 'ADA', family_name: 'LOVELACE', birthdate: '1990-12-10' },
    });
    // Userinfo answers its own request: nationality only, and only the verification's required member.
    expect(validate(userinfo.verified_claims), JSON.stringify(validate.errors)).toBe(true);
    expect(userinfo.verified_claims).toEqual({ verification: { trust_framework: TRUST_FRAMEWORK }, claims: { nationalities: ['GBR'] } });

    // The next sign-in to the same app asks nothing and carries the same claims.
    const again = await tokensFor(bank);
    expect((again.idToken.verified_claims as { claims: unknown }).claims).toEqual({ given_name: 'ADA', family_name: 'LOVELACE', birthdate: '1990-12-10' });
  });

  it('gives an app the person did not release them to none, in the ID token or userinfo', async () => {
    const { idToken, userinfo } = await tokensFor(shop);
    expect(idToken.verified_claims).toBeUndefined();
    expect(userinfo.verified_claims).toBeUndefined();
    expect(idToken.sub).toBe(userId);
  });

  it('omits verified_claims when the app constrains the trust framework to another one', async () => {
    const other = JSON.stringify({ id_token: { verified_claims: { verification: { trust_framework: { value: 'eidas' } }, claims: { given_name: null } } } });
    expect((await tokensFor(bank, {}, other)).idToken.verified_claims).toBeUndefined();
  });

  it('refuses a malformed verified_claims request with invalid_request', async () => {
    for (const bad of [
      { id_token: { verified_claims: { claims: { given_name: null } } } },
      { id_token: { verified_claims: { verification: { trust_framework: null }, claims: {} } } },
      { id_token: { verified_claims: [{ verification: { trust_framework: null }, claims: { given_name: null } }] } },
    ]) {
      const start = await authorizationUrl(bank, { claims: JSON.stringify(bad) });
      const { url } = await new Agent().follow(start.url.href, {}, (u) => u.origin !== new URL(app.url).origin);
      expect(new URL(url).searchParams.get('error')).toBe('invalid_request');
    }
  });

  it('revocation and withdrawal of the proofing consent remove the claims from the next token', async () => {
    const s = app.services;
    await s.proofing.revoke(userId, userId, 'test');
    expect((await tokensFor(bank)).idToken.verified_claims).toBeUndefined();

    await s.proofing.record(userId, evidence());
    expect((await tokensFor(bank)).idToken.verified_claims).toBeDefined();

    await s.proofing.withdrawConsent(userId);
    // The release was erased with the evidence: the app must be allowed again, and there is nothing to release.
    const start = await authorizationUrl(bank, { acr_values: ACR.password, claims: CLAIMS });
    const agent = new Agent();
    const page = await signIn(agent, start, { email: 'ada@example.com', password: PASSWORD }).catch((e: Error) => e);
    expect(page).not.toBeInstanceOf(Error);
    const tokens = await exchange(bank, start, page as URL);
    expect(tokens.claims()?.verified_claims).toBeUndefined();
  });
});
