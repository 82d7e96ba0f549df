import { readFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { Agent } from '../helpers/browserless.js';
import { signIn } from '../helpers/flow.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ForcedChallenges, RECORDING_FACE, RECORDING_HOLDS, recordingFrames, SteerableCamera } from '../helpers/challenge.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { APP_ORIGIN, identify, interceptApp } from '../helpers/face-capture.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/server.js';

const REDIRECT = `${APP_ORIGIN}/cb`;
const EMAIL = 'fay@example.com';
const SCOPE = 'openid profile email offline_access';
const fixture = (name: string) => readFileSync(path.join(ROOT, 'test', 'fixtures', 'api', name));

/**
 * A FAPI 2.0 relying party end to end: openid-client 6 with private_key_jwt (its public keys registered as a JWK Set),
 * PAR and DPoP, a face sign-in in Chromium with the steerable camera, then userinfo, refresh, introspection and the
 * Face Match API with DPoP-bound tokens, each also tried without its proof.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('FAPI 2.0 client (PAR, DPoP, private_key_jwt)', () => {
  const hasChromium = requireService('Chromium', CHROMIUM !== null);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let rp: oidc.Configuration;
  let dpopKeys: oidc.CryptoKeyPair;
  let DPoP: oidc.DPoPHandle;
  let browser: TestBrowser | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/13`, SECRET_KEY: TEST_SECRET_KEY }, { drawChallenge: new ForcedChallenges().draw });
    await seedUser(server.services, { email: EMAIL, name: 'Fay', photos: [RECORDING_FACE] });

    // The app's own key for private_key_jwt; the provider is given only its public half (a jwks_uri would have to be
    // a public address: oidc-provider refuses to fetch keys from loopback or private networks).
    const { privateKey, publicKey } = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'rp-2026', alg: 'ES256', use: 'sig' }] };
    const { client, clientSecret } = await server.services.clients.create({ name: 'Bank', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'client_credentials'], fapi2: true, jwks: JSON.stringify(jwks) });
    expect(clientSecret).toBeNull();
    expect(client).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', parRequired: true, dpopRequired: true, jwks });
    rp = await oidc.discovery(new URL(server.url), client.clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-2026' }), { execute: [oidc.allowInsecureRequests] });
    dpopKeys = await oidc.randomDPoPKeyPair('ES256');
    DPoP = oidc.getDPoPHandle(rp, dpopKeys);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it('advertises in discovery what works: PAR, DPoP algorithms, private_key_jwt without client_secret_jwt, iss, S256', () => {
    const meta = rp.serverMetadata();
    console.log(`discovery: ${JSON.stringify(meta, null, 2)}`);
    expect(meta.pushed_authorization_request_endpoint).toBe(`${server.url}/request`);
    expect(meta.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA', 'PS256', 'RS256']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.request_parameter_supported).toBeUndefined();
    expect(meta.request_uri_parameter_supported).toBe(false);
  });

  it('refuses a plain authorization request from an app that must use PAR', async () => {
    const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: SCOPE, code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: 's' });
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? 'http://none/');
    console.log(`plain authorization request: ${res.status} → ${back.href}`);
    expect(res.status).toBe(303);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'invalid_request', error_description: 'Pushed Authorization Request must be used', iss: server.url });
  });

  it('refuses a token request without a DPoP proof, and a client assertion signed with another key', async () => {
    // oidc-provider answers invalid_grant ("DPoP proof JWT not provided" stays in its logs); the same request with a proof succeeds below.
    await expect(oidc.clientCredentialsGrant(rp, { scope: 'face:match' })).rejects.toMatchObject({ error: 'invalid_grant' });
    const stranger = await oidc.randomDPoPKeyPair('ES256');
    const impostor = await oidc.discovery(new URL(server.url), rp.clientMetadata().client_id, undefined, oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'rp-2026' }), { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(impostor, { scope: 'face:match' }, { DPoP: oidc.getDPoPHandle(impostor, stranger) })).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('completes a PAR sign-in over plain HTTP against Redis, and the pushed request is single-use', async () => {
    // A kiosk-style app with the same settings (passive face capture: one picture, no challenge timing).
    const { privateKey, publicKey } = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'kiosk', alg: 'ES256', use: 'sig' }] };
    const { client } = await server.services.clients.create({ name: 'Branch kiosk', redirectUris: [REDIRECT], fapi2: true, jwks: JSON.stringify(jwks), allowPassiveFace: true });
    const kiosk = await oidc.discovery(new URL(server.url), client.clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: 'kiosk' }), { execute: [oidc.allowInsecureRequests] });
    const handle = oidc.getDPoPHandle(kiosk, await oidc.randomDPoPKeyPair('ES256'));
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(kiosk, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'k' }, { DPoP: handle });
    const back = await signIn(new Agent(), { url }, { email: EMAIL, photo: readFileSync(RECORDING_FACE) });
    const tokens = await oidc.authorizationCodeGrant(kiosk, back, { pkceCodeVerifier: verifier, expectedState: 'k' }, undefined, { DPoP: handle });
    expect(tokens.token_type).toBe('dpop');
    expect(tokens.claims()).toMatchObject({ acr: ACR.facePassive });
    // The request_uri was consumed when the authorization completed.
    const again = await fetch(url, { redirect: 'manual' });
    expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe('invalid_request_uri');
  });

  it.runIf(hasChromium)('signs in with the face through PAR, gets DPoP-bound tokens, and userinfo refuses the access token without its proof', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const [state, nonce] = [oidc.randomState(), oidc.randomNonce()];
    const url = await oidc.buildAuthorizationUrlWithPAR(rp, { redirect_uri: REDIRECT, scope: SCOPE, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce }, { DPoP });
    // Only the client and the request_uri travel through the browser.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);

    browser = await launchBrowser();
    const camera = await SteerableCamera.install(browser.context);
    camera.show(recordingFrames(), 6, RECORDING_HOLDS);
    await browser.context.grantPermissions(['camera']);
    await interceptApp(browser.page);
    const frames: string[] = [];
    browser.page.on('response', async (res) => {
      if (res.url().endsWith('/face/challenge/frame')) frames.push(`${res.status()} ${(await res.text().catch(() => '')).slice(0, 160)}`);
    });
    await identify(browser.page, url, EMAIL);
    // A busy shared machine analyses frames and resumes the authorization slowly: generous waits, then the diagnosis.
    const page = browser.page;
    const atApp = () => page.url().startsWith(APP_ORIGIN);
    const callback = await (async () => {
      await page.waitForFunction((origin) => location.href.startsWith(origin) || document.querySelector('[data-testid="consent-approve"]') !== null, APP_ORIGIN, { timeout: 60_000 });
      if (!atApp()) {
        await page.getByTestId('consent-approve').click();
        await page.waitForURL((u) => u.href.startsWith(APP_ORIGIN), { timeout: 60_000 });
      }
      return new URL(page.url());
    })().catch(async (err: unknown) => {
      const step = await page.getByTestId('face-challenge').getAttribute('data-step').catch(() => null);
      const text = (await page.textContent('body').catch(() => ''))?.replace(/\s+/g, ' ').trim().slice(0, 300);
      throw new Error(`not back at the app: ${page.url()} step ${step}, page "${text}"; ${frames.length} frames, last ${frames.at(-1)}`, { cause: err });
    });
    expect(callback.searchParams.get('iss')).toBe(server.url);

    const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, undefined, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ amr: ['face', 'liveness'], acr: ACR.face });

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub, { DPoP });
    expect(info).toMatchObject({ sub: claims.sub, email: EMAIL });

    // The same token without its proof: as Bearer, and with the DPoP scheme but no proof.
    const me = `${server.url}/me`;
    const asBearer = await fetch(me, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const noProof = await fetch(me, { headers: { authorization: `DPoP ${tokens.access_token}` } });
    console.log(`userinfo without the proof: Bearer → ${asBearer.status} ${asBearer.headers.get('www-authenticate')}; DPoP without proof → ${noProof.status} ${noProof.headers.get('www-authenticate')}`);
    // oidc-provider: a DPoP-bound token as Bearer is 401 invalid_token; the DPoP scheme without a proof is 400 invalid_request.
    expect([asBearer.status, noProof.status]).toEqual([401, 400]);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // A proof made with another key does not help either.
    const otherKey = oidc.getDPoPHandle(rp, await oidc.randomDPoPKeyPair('ES256'));
    await expect(oidc.fetchUserInfo(rp, tokens.access_token, claims.sub, { DPoP: otherKey })).rejects.toMatchObject({ status: 401 });

    // Bound to the DPoP key: introspection (by the app itself, with private_key_jwt) shows cnf.jkt.
    const jkt = await calculateJwkThumbprint(await crypto.subtle.exportKey('jwk', dpopKeys.publicKey) as never);
    const introspected = await oidc.tokenIntrospection(rp, tokens.access_token);
    console.log(`introspection of the DPoP-bound access token: ${JSON.stringify(introspected, null, 2)}`);
    expect(introspected).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt }, client_id: rp.clientMetadata().client_id, sub: claims.sub });

    // Refresh: the client authenticates with its key, and the new access token is bound again; without a proof, refused.
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(await oidc.tokenIntrospection(rp, refreshed.access_token)).toMatchObject({ active: true, cnf: { jkt } });
  }, 240_000);

  it('the Face Match API accepts a DPoP-bound token with its proof and refuses it without one, as Bearer, or with a replayed proof', async () => {
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'face:match' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const api = new URL('/api/v1/face/match', server.url);
    const body = () => {
      const form = new FormData();
      form.set('selfie', new Blob([new Uint8Array(fixture('person-a-1.jpg'))], { type: 'image/jpeg' }), 'selfie.jpg');
      form.set('reference', new Blob([new Uint8Array(fixture('person-a-2.jpg'))], { type: 'image/jpeg' }), 'reference.jpg');
      return form;
    };
    // Every proof openid-client made is recorded, to replay one.
    const proofs: string[] = [];
    const recording: oidc.CustomFetch = async (input, init) => {
      const proof = new Headers(init.headers).get('dpop');
      if (proof) proofs.push(proof);
      return fetch(input, init as RequestInit);
    };
    // openid-client sends bytes: the multipart body and its boundary as fetch would encode the form.
    const encoded = new Response(body());
    const headers = new Headers({ 'content-type': encoded.headers.get('content-type')! });
    rp[oidc.customFetch] = recording;
    const ok = await oidc.fetchProtectedResource(rp, tokens.access_token, api, 'POST', new Uint8Array(await encoded.arrayBuffer()), headers, { DPoP }).finally(() => delete rp[oidc.customFetch]);
    const report = (await ok.json()) as { status: boolean; result: { decision: string }[] };
    expect(ok.status).toBe(200);
    expect(report.status).toBe(true);
    expect(decodeProtectedHeader(proofs[0])).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });

    const call = (headers: Record<string, string>) => fetch(api, { method: 'POST', headers, body: body() });
    const asBearer = await call({ authorization: `Bearer ${tokens.access_token}` });
    const noProof = await call({ authorization: `DPoP ${tokens.access_token}` });
    const replayed = await call({ authorization: `DPoP ${tokens.access_token}`, dpop: proofs[0] });
    const answers = await Promise.all([asBearer, noProof, replayed].map(async (r) => ({ status: r.status, codes: ((await r.json()) as { errorCodes: string[] }).errorCodes, challenge: r.headers.get('www-authenticate') })));
    console.log(`Face Match API without a valid proof: ${JSON.stringify(answers)}`);
    expect(answers.map((a) => [a.status, a.codes])).toEqual([
      [401, ['UNAUTHORIZED']],
      [401, ['INVALID_DPOP_PROOF']],
      [401, ['INVALID_DPOP_PROOF']],
    ]);
    expect(answers[0].challenge).toMatch(/^DPoP .*error="invalid_token"/);
    expect(answers[2].challenge).toMatch(/error="invalid_dpop_proof"/);
  });
});
