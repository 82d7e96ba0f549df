import path from 'node:path';
import * as oidc from 'openid-client';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { authorizationUrl, discover, exchange, signIn, SignInRefused, type RpClient } from '../helpers/flow.js';
import { csrfOf, faceSignIn, fixture, FIXTURES, noFacePhoto, photoForm } from './helpers.js';
import { ForcedChallenges, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';

const ADMIN = 'ada@example.com';
const MEMBER = 'mo@example.com';
const REDIRECT = 'http://127.0.0.1:9/cb';
/** Attempt counters and replay lists of unknown identifiers live in Redis beyond one run: make those identifiers unique. */
const RUN = Math.random().toString(36).slice(2, 8);

/** The central 80 % of a photo, as a camera a little closer would see it. */
async function closerCrop(photo: Buffer): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(photo).metadata();
  const [w, h] = [Math.round(width * 0.8), Math.round(height * 0.8)];
  return sharp(photo).extract({ left: Math.round((width - w) / 2), top: Math.round((height - h) / 3), width: w, height: h }).jpeg().toBuffer();
}

/** The admin console over plain HTTP, with an admin session obtained through the real face sign-in. */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('admin console (HTTP)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  const admin = new Agent();
  const member = new Agent();
  let memberId: string;
  /** An ordinary first-party app with refresh tokens, through which people sign in. */
  let wiki: RpClient;

  /** A face sign-in at the wiki from `agent`'s browser (a new, unknown device by default); returns its tokens. */
  const wikiSignIn = async (email: string, photo: Buffer, agent = new Agent()) => {
    // prompt=login: a browser with a provider session would otherwise be signed in without the face step.
    const start = await authorizationUrl(wiki, { prompt: 'login' });
    return exchange(wiki, start, await signIn(agent, start, { email, photo }));
  };
  /** The face step's refusal for `photo` (code and message), or null when it signed in. */
  const refusal = async (email: string, photo: Buffer, agent?: Agent) => {
    try {
      await wikiSignIn(email, photo, agent);
      return null;
    } catch (err) {
      if (err instanceof SignInRefused) return err;
      throw err;
    }
  };
  const faceRefusal = async (email: string, photo: Buffer, agent?: Agent) => (await refusal(email, photo, agent))?.code ?? null;

  const page = async (agent: Agent, p: string) => {
    const res = await agent.request(`${server.url}${p}`);
    return { res, html: await res.text() };
  };
  /** Posts a form from `from` (for its CSRF token) to `action`; returns the final page after redirects. */
  const post = async (agent: Agent, from: string, action: string, fields: Record<string, string | string[]>) => {
    const { html } = await page(agent, from);
    const body = new URLSearchParams({ _csrf: csrfOf(html) });
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    const { res, url } = await agent.follow(`${server.url}${action}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { res, url, html: await res.text() };
  };
  /** Runs one statement against the test database, e.g. to check that nothing was half-saved. */
  const sql = async (q: string) => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query(q)).rows;
    } finally {
      await c.end();
    }
  };
  const count = async (table: string, where = '') => (await sql(`select count(*)::int as n from ${table} ${where}`))[0].n as number;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/6`, SECRET_KEY: TEST_SECRET_KEY };
    // The console requires the head-movement challenge; the only answer the tests have is the recorded "up, right".
    server = await startApp(env, { drawChallenge: new ForcedChallenges().draw });
    await seedUser(server.services, { email: ADMIN, name: 'Ada Admin', admin: true, photos: [path.join(FIXTURES, 'admin-1.jpg'), RECORDING_FACE] });
    memberId = (await seedUser(server.services, { email: MEMBER, name: 'Mo Member', photos: [path.join(FIXTURES, 'member.jpg'), RECORDING_FACE] })).id;
    // The wiki takes one passive picture (the single-photo sign-ins below); the console and other apps the challenge.
    const app = await server.services.clients.create({ name: 'Wiki', redirectUris: [REDIRECT], scopes: ['openid', 'profile', 'email', 'offline_access'], firstParty: true, allowPassiveFace: true });
    wiki = await discover(server.url, app.client.clientId, app.clientSecret!, REDIRECT);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('sends anonymous visitors to sign in, and signs the admin in with their face through this provider', async () => {
    const anonymous = await new Agent().request(`${server.url}/admin/users?q=x`);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fusers%3Fq%3Dx');
    const post = await new Agent().request(`${server.url}/admin/users`, { method: 'POST', body: new URLSearchParams({ email: 'x@example.com', name: 'X' }) });
    expect(post.status).toBe(401);

    const { res, url } = await faceSignIn(admin, `${server.url}/admin/login?next=/admin/users`, ADMIN, fixture('admin-1.jpg'), recordingFrames());
    expect(new URL(url).pathname).toBe('/admin/users');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-testid="admin-name">Ada Admin');
    // Strict CSP, no inline code; admin pages are never cached.
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/\sstyle="/);
  });

  it('answers 403 to a signed-in account without the admin role', async () => {
    const { res, html } = await (async () => {
      const r = await faceSignIn(member, `${server.url}/admin/login`, MEMBER, fixture('member.jpg'), recordingFrames());
      return { res: r.res, html: await r.res.text() };
    })();
    expect(res.status).toBe(403);
    expect(html).toContain('data-testid="forbidden"');
    expect(html).toContain('Mo Member');
    const form = await member.request(`${server.url}/admin/users`, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(html), email: 'y@example.com', name: 'Y' }) });
    expect(form.status).toBe(403);
    expect(await count('users', "where email = 'y@example.com'")).toBe(0);
  });

  it('refuses a form without a valid CSRF token and saves nothing', async () => {
    for (const token of [null, 'forged-token']) {
      const body = new URLSearchParams({ email: 'csrf@example.com', name: 'Csrf' });
      if (token) body.set('_csrf', token);
      const res = await admin.request(`${server.url}/admin/users`, { method: 'POST', body });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('CSRF_TOKEN_INVALID');
    }
    // A token of another session (the member's) does not work either.
    const { html } = await page(member, '/admin/users');
    const res = await admin.request(`${server.url}/admin/users`, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(html), email: 'csrf@example.com', name: 'Csrf' }) });
    expect(res.status).toBe(403);
    expect(await count('users', "where email = 'csrf@example.com'")).toBe(0);
  });

  let userId: string;

  it('creates, searches, edits, disables and enables users; a duplicate email is refused clearly', async () => {
    const created = await post(admin, '/admin/users/new', '/admin/users', { email: 'Dana@Example.com', name: 'Dana Doe' });
    userId = /\/admin\/users\/([0-9a-f-]{36})\/enroll/.exec(created.url)![1];
    expect(created.html).toContain('User created.');

    const dup = await post(admin, '/admin/users/new', '/admin/users', { email: 'dana@example.com', name: 'Another Dana' });
    expect(dup.res.status).toBe(409);
    expect(dup.html).toMatch(/data-testid="form-error">A user with email dana@example.com already exists\./);
    expect(dup.html).toContain('value="Another Dana"');
    expect(await count('users', "where email = 'dana@example.com'")).toBe(1);

    const bad = await post(admin, '/admin/users/new', '/admin/users', { email: 'not-an-email', name: 'Nobody' });
    expect(bad.res.status).toBe(400);
    expect(bad.html).toContain('is not a valid email address');

    expect((await page(admin, '/admin/users?q=DANA')).html).toContain('dana@example.com');
    expect((await page(admin, '/admin/users?q=zzz')).html).toContain('No user matches');
    await sql(`insert into users (id, email, name, updated_at) select gen_random_uuid(), 'bulk' || g || '@example.com', 'Bulk ' || lpad(g::text, 2, '0'), now() from generate_series(1, 30) g`);
    const first = await page(admin, '/admin/users?q=bulk');
    expect(first.html).toContain('Page 1 of 2');
    expect(first.html).toContain('href="/admin/users?q=bulk&amp;page=2"');
    const second = await page(admin, '/admin/users?q=bulk&page=2');
    expect(second.html.match(/>Bulk \d\d</g)).toEqual(['>Bulk 26<', '>Bulk 27<', '>Bulk 28<', '>Bulk 29<', '>Bulk 30<']);

    const taken = await post(admin, `/admin/users/${userId}`, `/admin/users/${userId}`, { email: MEMBER, name: 'Dana Doe' });
    expect(taken.res.status).toBe(409);
    expect(taken.html).toContain(`Another user already has the email ${MEMBER}.`);
    const saved = await post(admin, `/admin/users/${userId}`, `/admin/users/${userId}`, { email: 'dana@example.com', name: 'Dana D. Doe' });
    expect(saved.html).toContain('Changes saved.');
    expect(saved.html).toContain('Dana D. Doe');

  });

  it('disabling ends sessions, refresh and face sign-in at once; enabling restores sign-in', async () => {
    const eveEmail = `eve-${RUN}@example.com`;
    const eve = await seedUser(server.services, { email: eveEmail, name: 'Eve', photos: [path.join(FIXTURES, 'user-1.jpg')] });
    const tokens = await wikiSignIn(eveEmail, fixture('user-2.jpg'));
    expect(tokens.refresh_token).toBeTruthy();
    expect((await server.services.sessions.list(eve.id)).sessions).toHaveLength(1);

    const disabled = await post(admin, `/admin/users/${eve.id}`, `/admin/users/${eve.id}/status`, { status: 'disabled' });
    expect(disabled.html).toContain('User disabled');
    expect(await sql(`select status from users where id = '${eve.id}'`)).toEqual([{ status: 'DISABLED' }]);
    expect(await server.services.sessions.list(eve.id)).toEqual({ sessions: [], grants: [] });
    await expect(oidc.refreshTokenGrant(wiki.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The enrolled photo itself no longer signs in: a disabled account is verified against no template.
    expect(await faceRefusal(eveEmail, fixture('user-1.jpg'))).toBe('NO_MATCH');

    const enabled = await post(admin, `/admin/users/${eve.id}`, `/admin/users/${eve.id}/status`, { status: 'active' });
    expect(enabled.html).toContain('User enabled.');
    expect(await sql(`select status from users where id = '${eve.id}'`)).toEqual([{ status: 'ACTIVE' }]);
    expect((await wikiSignIn(eveEmail, fixture('user-1.jpg'))).claims()).toMatchObject({ amr: ['face'] });
  });

  it('enrolls only after consent, shows the verdict of every photo, and refuses bad photos without saving', async () => {
    const { html } = await page(admin, `/admin/users/${userId}/enroll`);
    const csrf = csrfOf(html);
    const preview = (photo: Buffer) =>
      admin.request(`${server.url}/admin/users/${userId}/enroll/preview`, { method: 'POST', body: photoForm(photo), headers: { 'x-csrf-token': csrf, accept: 'application/json' } });

    const noConsent = await preview(fixture('user-1.jpg'));
    expect(noConsent.status).toBe(409);
    expect(await noConsent.json()).toMatchObject({ error: { code: 'CONSENT_REQUIRED' } });
    const unticked = await post(admin, `/admin/users/${userId}/enroll`, `/admin/users/${userId}/consent`, {});
    expect(unticked.res.status).toBe(400);
    expect(unticked.html).toContain('Tick the box to confirm');
    expect(await count('biometric_consents', `where user_id = '${userId}'`)).toBe(0);
    const consented = await post(admin, `/admin/users/${userId}/enroll`, `/admin/users/${userId}/consent`, { confirm: 'on' });
    expect(consented.html).toContain('data-testid="consent-status"');
    expect(consented.html).toContain('by Ada Admin');

    const good = await (await preview(fixture('user-1.jpg'))).json();
    expect(good.verdict).toMatchObject({ ok: true, issues: [], width: 480, height: 640 });
    expect(good.verdict.face.box.width).toBeGreaterThan(100);

    const two = await (await preview(fixture('two-faces.jpg'))).json();
    expect(two.verdict.ok).toBe(false);
    expect(two.verdict.issues.map((i: { code: string }) => i.code)).toContain('MULTIPLE_FACES');
    expect(two.verdict.faces).toHaveLength(2);

    const none = await (await preview(await noFacePhoto())).json();
    expect(none.verdict).toMatchObject({ ok: false, face: null, faces: [] });
    expect(none.verdict.issues[0]).toMatchObject({ code: 'FACE_NOT_FOUND', message: expect.stringMatching(/No face found/) });

    // 20 MB: refused while streaming, with a message a person can act on.
    const big = Buffer.alloc(20 * 1024 * 1024, 0xff);
    const tooLarge = await preview(big);
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).error.message).toMatch(/larger than the limit of 15 MB/);

    // The no-script form: the page itself shows the reasons.
    const rejected = await admin.request(`${server.url}/admin/users/${userId}/enroll?_csrf=${encodeURIComponent(csrf)}`, { method: 'POST', body: photoForm(fixture('two-faces.jpg')) });
    expect(rejected.status).toBe(422);
    expect(await rejected.text()).toContain('<code>MULTIPLE_FACES</code>');
    const oversized = await admin.request(`${server.url}/admin/users/${userId}/enroll?_csrf=${encodeURIComponent(csrf)}`, { method: 'POST', body: photoForm(big) });
    expect(oversized.status).toBe(413);
    expect(await oversized.text()).toContain('data-testid="form-error">A photo is larger than the limit of 15 MB');
    expect(await count('face_templates', `where user_id = '${userId}'`)).toBe(0);

    const accepted = await admin.request(`${server.url}/admin/users/${userId}/enroll`, { method: 'POST', body: photoForm(fixture('user-1.jpg'), { source: 'upload' }), headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ template: { source: 'upload' } });
    const second = await admin.request(`${server.url}/admin/users/${userId}/enroll`, { method: 'POST', body: photoForm(fixture('user-2.jpg'), { source: 'camera' }), headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    expect(second.status).toBe(200);
    expect(await count('face_templates', `where user_id = '${userId}'`)).toBe(2);

    const listed = await page(admin, `/admin/users/${userId}/enroll`);
    expect(listed.html.match(/data-testid="template-row"/g)).toHaveLength(2);
    const templateId = /\/templates\/([0-9a-f-]{36})\/delete/.exec(listed.html)![1];
    const removed = await post(admin, `/admin/users/${userId}/enroll`, `/admin/users/${userId}/templates/${templateId}/delete`, {});
    expect(removed.html).toContain('Face template removed.');
    expect(await count('face_templates', `where user_id = '${userId}'`)).toBe(1);
  });

  it('self-enrolls through a single-use invite link: own consent, then a selfie with the liveness check', async () => {
    const created = await post(admin, '/admin/users/new', '/admin/users', { email: 'ivy@example.com', name: 'Ivy Invite' });
    const ivy = /\/admin\/users\/([0-9a-f-]{36})\/enroll/.exec(created.url)![1];
    const invited = await post(admin, `/admin/users/${ivy}/enroll`, `/admin/users/${ivy}/invite`, {});
    const link = /value="([^"]+)" data-testid="invite-link"/.exec(invited.html)![1];
    expect(link).toMatch(/\/enroll\/[\w-]{40,}$/);
    const person = new Agent();
    const first = await person.request(link);
    const firstHtml = await first.text();
    expect(firstHtml).toContain('data-testid="consent-text"');
    const agreed = await person.submit(link, firstHtml, /action="([^"]+consent)"/.exec(firstHtml)![1], { agree: 'yes' });
    const capturePage = await agreed.res.text();
    const photoUrl = new URL(/data-photo-url="([^"]+)"/.exec(capturePage)![1], link).href;
    const csrf = /data-csrf="([^"]+)"/.exec(capturePage)![1];
    const send = (photo: Buffer) => person.request(photoUrl, { method: 'POST', body: photoForm(photo), headers: { 'x-csrf-token': csrf, accept: 'application/json' } });

    const refused = await send(fixture('two-faces.jpg'));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'QUALITY_REJECTED' } });
    const ok = await send(fixture('user-2.jpg'));
    expect(ok.status).toBe(200);
    const done = await person.follow(new URL((await ok.json()).redirect, link).href);
    expect(await done.res.text()).toContain('data-testid="enroll-done"');
    // Single use.
    expect((await person.request(link)).status).toBe(410);
    expect((await send(fixture('user-1.jpg'))).status).toBe(410);
    expect(await count('biometric_consents', `where user_id = '${ivy}' and collected_by = 'self'`)).toBe(1);
    expect(await count('face_templates', `where user_id = '${ivy}' and source = 'invite'`)).toBe(1);
  });

  it('registers apps: invalid redirect URIs are refused, the secret is shown once and works, rotation and deletion', async () => {
    const form = { name: 'Acme Portal', redirect_uris: 'https://portal.acme.test/cb#frag', grant_types: ['authorization_code', 'client_credentials'], scopes: ['openid', 'profile', 'face:match'], client_type: 'confidential', required_acr: '' };
    const invalid = await post(admin, '/admin/apps/new', '/admin/apps', form);
    expect(invalid.res.status).toBe(400);
    expect(invalid.html).toContain('data-testid="form-error">Redirect URI &#34;https://portal.acme.test/cb#frag&#34; must not contain a fragment.');
    expect(invalid.html).toContain('Acme Portal');
    expect(await count('clients', "where name = 'Acme Portal'")).toBe(0);

    const created = await post(admin, '/admin/apps/new', '/admin/apps', { ...form, redirect_uris: 'https://portal.acme.test/cb\nhttps://portal.acme.test/cb2' });
    const clientId = /data-testid="app-client-id">([^<]+)</.exec(created.html)![1];
    const secret = /value="([^"]+)" data-testid="app-client-secret"/.exec(created.html)![1];
    const config = await oidc.discovery(new URL(server.url), clientId, secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
    expect((await oidc.clientCredentialsGrant(config, { scope: 'face:match' })).access_token).toBeTruthy();
    // Not shown again.
    expect((await page(admin, `/admin/apps/${clientId}`)).html).not.toContain(secret);

    const edited = await post(admin, `/admin/apps/${clientId}`, `/admin/apps/${clientId}`, { ...form, redirect_uris: 'https://portal.acme.test/new', first_party: 'on', required_acr: 'urn:face-oidc:acr:face+pwd' });
    expect(edited.html).toContain('App saved.');
    expect(edited.html).toContain('https://portal.acme.test/new');
    // The edits take effect: the registered minimum asks for the password first, and a first-party app skips consent.
    const portal = await discover(server.url, clientId, secret, 'https://portal.acme.test/new');
    await seedUser(server.services, { email: 'gus@example.com', name: 'Gus', password: 'gus-password-123', photos: [path.join(FIXTURES, 'admin-1.jpg'), RECORDING_FACE] });
    const start = await authorizationUrl(portal, { scope: 'openid profile' });
    const back = await signIn(new Agent(), start, { email: 'gus@example.com', password: 'gus-password-123', sequence: recordingFrames() });
    const claims = (await exchange(portal, start, back)).claims()!;
    expect(claims).toMatchObject({ acr: 'urn:face-oidc:acr:face+pwd', amr: ['face', 'liveness', 'pwd', 'mfa'] });
    // signIn approves a consent screen when one comes; none came, so no approval was recorded.
    expect(await count('oidc_consents', `where client_id = '${clientId}'`)).toBe(0);

    // Face Match API decision rules, validated like the API reads them.
    const badRules = await post(admin, `/admin/apps/${clientId}`, `/admin/apps/${clientId}`, { ...form, redirect_uris: 'https://portal.acme.test/new', match_min_similarity: '140' });
    expect(badRules.res.status).toBe(400);
    expect(badRules.html).toContain('The minimum similarity must be a number from 0 to 100');
    await post(admin, `/admin/apps/${clientId}`, `/admin/apps/${clientId}`, { ...form, redirect_uris: 'https://portal.acme.test/new', match_min_similarity: '75', match_document_required: 'on' });
    const [stored] = await sql(`select match_rules from clients where client_id = '${clientId}'`);
    expect(stored.match_rules).toEqual({ minSimilarity: 75, livenessRequired: false, qualityRequired: false, documentRequired: true, otherFacesInSelfie: 'allow' });

    const rotated = await post(admin, `/admin/apps/${clientId}`, `/admin/apps/${clientId}/rotate-secret`, {});
    const newSecret = /value="([^"]+)" data-testid="app-client-secret"/.exec(rotated.html)![1];
    expect(newSecret).not.toBe(secret);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'face:match' })).rejects.toMatchObject({ status: 401 });
    const rotatedConfig = await oidc.discovery(new URL(server.url), clientId, newSecret, oidc.ClientSecretBasic(newSecret), { execute: [oidc.allowInsecureRequests] });
    expect((await oidc.clientCredentialsGrant(rotatedConfig, { scope: 'face:match' })).scope).toBe('face:match');

    const deleted = await post(admin, `/admin/apps/${clientId}/delete`, `/admin/apps/${clientId}/delete`, {});
    expect(deleted.html).toContain('App deleted');
    expect(await count('clients', `where client_id = '${clientId}'`)).toBe(0);
    const builtIn = await post(admin, '/admin/apps', '/admin/apps/face-oidc-admin/delete', {});
    expect(builtIn.res.status).toBe(400);
    expect(builtIn.html).toContain('APP_BUILT_IN');
    expect(await count('clients', "where client_id = 'face-oidc-admin'")).toBe(1);
  });

  it('registers a FAPI 2.0 app: the preset without keys is refused clearly, with its JWK Set it has no secret and gets DPoP-bound tokens', async () => {
    const { privateKey, publicKey } = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'bank-1', alg: 'ES256', use: 'sig' };
    const form = { name: 'Bank', redirect_uris: 'https://bank.acme.test/cb', grant_types: ['authorization_code', 'client_credentials'], scopes: ['openid', 'face:match'], client_type: 'confidential', auth_method: 'client_secret_basic', fapi2: 'on' };
    const refused = await post(admin, '/admin/apps/new', '/admin/apps', form);
    expect(refused.res.status).toBe(400);
    expect(refused.html).toContain("The FAPI 2.0 preset needs the app&#39;s public keys for private_key_jwt: paste its JSON Web Key Set or give its jwks_uri.");
    expect(await count('clients', "where name = 'Bank'")).toBe(0);

    const created = await post(admin, '/admin/apps/new', '/admin/apps', { ...form, jwks: JSON.stringify({ keys: [jwk] }) });
    expect(created.html).toContain('App saved.');
    expect(created.html).not.toContain('data-testid="app-client-secret"');
    expect(created.html).toContain('FAPI 2.0: private_key_jwt, PAR and DPoP required');
    const clientId = /data-testid="app-client-id">([^<]+)</.exec(created.html)![1];
    const [row] = await sql(`select secret, token_endpoint_auth_method, par_required, dpop_required, jwks from clients where client_id = '${clientId}'`);
    expect(row).toMatchObject({ secret: null, token_endpoint_auth_method: 'private_key_jwt', par_required: true, dpop_required: true, jwks: { keys: [jwk] } });
    expect((await page(admin, '/admin/apps')).html).toMatch(/Bank<\/a>.*FAPI 2\.0<\/span>/);

    const config = await oidc.discovery(new URL(server.url), clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: 'bank-1' }), { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(config, { scope: 'face:match' })).rejects.toMatchObject({ error: 'invalid_grant' });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'face:match' }, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair()) });
    expect(tokens.token_type).toBe('dpop');
  });

  it('ends console sessions with their provider session: "revoke all" signs another administrator out of the console', async () => {
    const ivan = await seedUser(server.services, { email: `ivan-${RUN}@example.com`, name: 'Ivan', admin: true, photos: [path.join(FIXTURES, 'admin-1.jpg'), RECORDING_FACE] });
    const browser = new Agent();
    const signedIn = await faceSignIn(browser, `${server.url}/admin/login?next=/admin/users`, ivan.email, fixture('admin-2.jpg'), recordingFrames());
    expect(new URL(signedIn.url).pathname).toBe('/admin/users');
    expect((await browser.request(`${server.url}/admin/users`)).status).toBe(200);

    await post(admin, `/admin/users/${ivan.id}/sessions`, `/admin/users/${ivan.id}/sessions/revoke-all`, {});
    const after = await browser.request(`${server.url}/admin/users`);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toMatch(/^\/admin\/login/);
  });

  it('withdrawing an app approval ends the app’s grant and its tokens', async () => {
    const jo = await seedUser(server.services, { email: `jo-${RUN}@example.com`, name: 'Jo', photos: [path.join(FIXTURES, 'user-1.jpg'), RECORDING_FACE] });
    const app = await server.services.clients.create({ name: 'Third-party app', redirectUris: [REDIRECT], scopes: ['openid', 'profile', 'email', 'offline_access'] });
    const thirdParty = await discover(server.url, app.client.clientId, app.clientSecret!, REDIRECT);
    const start = await authorizationUrl(thirdParty);
    // signIn approves the consent screen, which records the approval.
    const tokens = await exchange(thirdParty, start, await signIn(new Agent(), start, { email: jo.email, sequence: recordingFrames() }));
    expect(await count('oidc_consents', `where user_id = '${jo.id}'`)).toBe(1);
    await oidc.fetchUserInfo(thirdParty.config, tokens.access_token, jo.id);

    await post(admin, `/admin/users/${jo.id}/sessions`, `/admin/users/${jo.id}/approvals/${encodeURIComponent(app.client.clientId)}/revoke`, {});
    expect(await count('oidc_consents', `where user_id = '${jo.id}'`)).toBe(0);
    await expect(oidc.refreshTokenGrant(thirdParty.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(thirdParty.config, tokens.access_token, jo.id)).rejects.toMatchObject({ status: 401 });
  });

  it('lists a person’s sessions and grants and revokes them', async () => {
    const before = await page(admin, `/admin/users/${memberId}/sessions`);
    expect(before.html.match(/data-testid="session-row"/g)).toHaveLength(1);
    expect(before.html).toContain('face-oidc admin console');
    const ref = /\/sessions\/([0-9a-f]{32})\/revoke/.exec(before.html)![1];
    const revoked = await post(admin, `/admin/users/${memberId}/sessions`, `/admin/users/${memberId}/sessions/${ref}/revoke`, {});
    expect(revoked.html).toContain('Revoked.');
    expect(revoked.html).toContain('data-testid="sessions-empty"');
    // The member's provider session is gone: signing in again starts from the identifier.
    const again = await member.follow(`${server.url}/admin/login`);
    expect(await again.res.text()).toContain('data-testid="login-identifier"');
  });

  it('shows sign-in attempts and admin actions with filters, a detail view and a CSV export', async () => {
    const faces = await page(admin, `/admin/audit?type=signin.&user=${encodeURIComponent(MEMBER)}`);
    expect(faces.html).toContain('data-type="signin.face"');
    expect(faces.html).not.toContain('data-type="admin.');
    const id = /href="\/admin\/audit\/(\d+)"/.exec(faces.html)![1];
    const detail = await page(admin, `/admin/audit/${id}`);
    expect(detail.html).toMatch(/<dt>similarity<\/dt>\s*<dd>\s*(0\.\d+|1)\s*<\/dd>/);
    expect(detail.html).toMatch(/<dt>liveness<\/dt>\s*<dd>\s*(0\.\d+|1)\s*<\/dd>/);
    expect(detail.html).toContain('data-testid="audit-user-agent"');

    const actions = await page(admin, '/admin/audit?type=admin.&outcome=success');
    expect(actions.html).toContain('data-type="admin.user.create"');
    expect(actions.html).toContain('data-type="admin.app.rotate_secret"');
    const failures = await page(admin, '/admin/audit?outcome=failure&type=admin.');
    expect(failures.html).toContain('data-type="admin.signin"');
    const future = await page(admin, '/admin/audit?from=2999-01-01');
    expect(future.html).toContain('No events match these filters');
    expect((await page(admin, '/admin/audit?from=yesterday')).html).toContain('Enter times as YYYY-MM-DD');

    const csv = await admin.request(`${server.url}/admin/audit.csv?type=admin.`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="face-oidc-audit-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,at,type,outcome,reason,user_id,actor_id,client_id,ip,user_agent,details');
    expect(lines.slice(1).every((l) => l.split(',')[2].startsWith('admin.'))).toBe(true);
    expect(lines.length).toBeGreaterThan(10);
  });

  it('changes settings with validation, audited, and every instance decides with them', async () => {
    // A second instance on the same PostgreSQL and Redis, already running (and caching settings) before the change.
    const second = await startApp({ DATABASE_URL: server.env.DATABASE_URL, REDIS_URL: server.env.REDIS_URL, REDIS_KEY_PREFIX: server.env.REDIS_KEY_PREFIX, SECRET_KEY: server.env.SECRET_KEY });
    try {
      expect(second.services.engine.thresholds.matchThreshold).toBe(0.411);
      const bad = await post(admin, '/admin/settings', '/admin/settings', { matchPreset: 'far-1e-4', livenessThreshold: '0.7', apiReviewScore: '70', apiAcceptScore: '120', faceFailuresBeforeDelay: '5', failureDelaySeconds: '10', faceFailuresBeforeLockout: '50', passwordFailuresBeforeDelay: '5', passwordFailuresBeforeLockout: '20', templateRetentionDays: '2000', auditRetentionDays: '365', proofingValidityDays: '365' });
      expect(bad.res.status).toBe(400);
      expect(bad.html).toContain('Delay per attempt must be at least 30.');
      expect(bad.html).toContain('Template retention must be at most 1095.');
      expect(bad.html).toContain('Face Match accept score must be at most 100.');
      const ok = await post(admin, '/admin/settings', '/admin/settings', { matchPreset: 'far-1e-5', livenessThreshold: '0.8', apiReviewScore: '65', apiAcceptScore: '85', faceFailuresBeforeDelay: '1', failureDelaySeconds: '45', faceFailuresBeforeLockout: '50', passwordFailuresBeforeDelay: '5', passwordFailuresBeforeLockout: '20', templateRetentionDays: '1095', auditRetentionDays: '400', proofingValidityDays: '180', proofingEnabled: 'on', keepImages: 'on' });
      expect(ok.html).toContain('Settings saved.');
      expect(ok.html).toMatch(/value="far-1e-5" selected/);
      expect(ok.html).toContain('name="apiAcceptScore" type="number" min="0" max="100" step="0.1" required value="85"');
      const audit = await page(admin, '/admin/audit?type=admin.');
      expect(audit.html).toContain('data-type="admin.settings.update"');
      const ran = await post(admin, '/admin/settings', '/admin/settings/retention/run', {});
      expect(ran.html).toContain('data-testid="retention-result"');

      // The engines take the new thresholds: this instance at once, the other one within its settings cache period.
      expect(server.services.engine.thresholds).toEqual({ matchThreshold: 0.477, livenessThreshold: 0.8 });
      await expect
        .poll(async () => (await second.services.settings.get(), second.services.engine.thresholds), { timeout: 10_000, interval: 500 })
        .toEqual({ matchThreshold: 0.477, livenessThreshold: 0.8 });
      // The limiter too: on the other instance, one failed attempt now delays the next by 45 s.
      const start = await authorizationUrl(wiki);
      const refused = await signIn(new Agent(), start, { email: `settings-probe-${RUN}@example.com`, photo: fixture('user-1.jpg') }, second.url).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(SignInRefused);
      expect(refused).toMatchObject({ status: 401, code: 'NO_MATCH', message: expect.stringMatching(/Wait 45 seconds/) });
    } finally {
      await server.services.settings.update({ matchPreset: 'far-1e-4', livenessThreshold: 0.7, faceFailuresBeforeDelay: 5, failureDelaySeconds: 30, keepImages: false }, 'test');
      await second.stop();
    }
  });

  it('locks out unknown devices only for a while, the person’s own device for good, and unlock clears every counter', async () => {
    // Lock out after three failures (no delay before: the delay would make each attempt wait 30 s).
    await server.services.settings.update({ faceFailuresBeforeDelay: 3, faceFailuresBeforeLockout: 3 }, 'test');
    try {
      // Anyone who knows the email, from devices the member never signed in with: other people's photos.
      const strangers = [];
      for (const photo of ['user-1.jpg', 'user-2.jpg', 'admin-2.jpg']) strangers.push(await refusal(MEMBER, fixture(photo)));
      expect(strangers.map((r) => r?.code)).toEqual(['NO_MATCH', 'NO_MATCH', 'NO_MATCH']);
      expect(strangers[2]?.message).toMatch(/from this device: wait an hour/);
      expect(await faceRefusal(MEMBER, fixture('admin-1.jpg'))).toBe('FACE_DELAYED');
      // Nothing anonymous locked the factor: the member's own browser (signed in before) still gets in.
      expect(await count('users', `where id = '${memberId}' and face_locked_at is null`)).toBe(1);
      expect((await wikiSignIn(MEMBER, fixture('member-2.jpg'), member)).claims()).toMatchObject({ amr: ['face'] });

      // Failures from the member's own device are another matter: at the lockout count the factor is disabled.
      const own = [];
      // Mirrored copies: the originals were already submitted for this account, and would be refused as replays.
      for (const photo of ['user-1.jpg', 'user-2.jpg', 'admin-2.jpg']) own.push(await faceRefusal(MEMBER, await sharp(fixture(photo)).flop().jpeg().toBuffer(), member));
      expect(own).toEqual(['NO_MATCH', 'NO_MATCH', 'FACE_LOCKED']);
      const locked = await page(admin, `/admin/users/${memberId}`);
      expect(locked.html).toContain('>Locked</span>');
      expect(locked.html.match(/data-testid="throttle-row"/g)).toHaveLength(2);
      expect(locked.html).toContain('Face, unknown devices: 3 failed attempts, waiting until');

      const unlocked = await post(admin, `/admin/users/${memberId}`, `/admin/users/${memberId}/unlock-face`, {});
      expect(unlocked.html).toContain('Face sign-in re-enabled');
      expect(await count('users', `where id = '${memberId}' and face_locked_at is null`)).toBe(1);
      // Every counter went too: with the unknown devices' one still at the lockout count, this would be refused.
      expect(await server.services.verification.attempts.faceFailures(memberId)).toBe(0);
      expect(unlocked.html).toContain('No failed attempts');
      // A new sitting: the photo cropped closer (the originals were submitted already and would be replays).
      expect((await wikiSignIn(MEMBER, await closerCrop(fixture('member-2.jpg')))).claims()).toMatchObject({ amr: ['face'] });
    } finally {
      await server.services.settings.update({ faceFailuresBeforeDelay: 5, faceFailuresBeforeLockout: 50 }, 'test');
    }
  });

  it('deletes a user with their face data, kept images, consents and live sessions, keeping an audit record without biometric data', async () => {
    const self = await page(admin, '/admin/users?q=ada');
    const adminId = /href="\/admin\/users\/([0-9a-f-]{36})"/.exec(self.html)![1];
    const refusedSelf = await post(admin, `/admin/users/${adminId}`, `/admin/users/${adminId}/delete`, {});
    expect(refusedSelf.res.status).toBe(400);
    expect(refusedSelf.html).toContain('You cannot delete your own account.');
    expect(await count('users', `where id = '${adminId}'`)).toBe(1);

    await server.services.settings.update({ keepImages: true }, 'test');
    const finn = await seedUser(server.services, { email: 'finn@example.com', name: 'Finn', photos: [path.join(FIXTURES, 'user-1.jpg')] });
    await server.services.settings.update({ keepImages: false }, 'test');
    const tokens = await wikiSignIn('finn@example.com', fixture('user-2.jpg'));
    const where = `where user_id = '${finn.id}'`;
    expect([await count('face_templates', where), await count('stored_images', where), await count('biometric_consents', where)]).toEqual([1, 1, 1]);
    expect((await server.services.sessions.list(finn.id)).sessions).toHaveLength(1);

    const deleted = await post(admin, `/admin/users/${finn.id}/delete`, `/admin/users/${finn.id}/delete`, {});
    expect(deleted.html).toContain('User deleted');
    expect(await count('users', `where id = '${finn.id}'`)).toBe(0);
    expect([await count('face_templates', where), await count('stored_images', where), await count('biometric_consents', where)]).toEqual([0, 0, 0]);
    expect(await server.services.sessions.list(finn.id)).toEqual({ sessions: [], grants: [] });
    await expect(oidc.refreshTokenGrant(wiki.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const [record] = await sql(`select details from audit_events where type = 'admin.user.delete' and user_id = '${finn.id}'`);
    // The wiki's grant was made in that session and ended with it, so no grant was left to end on its own.
    // The face sign-in left one replay fingerprint; no Face Match record named Finn.
    expect(record.details).toEqual({ email: 'finn@example.com', name: 'Finn', templates: 1, images: 1, matchRecords: 0, replayHashes: 1, passkeys: 0, sessions: 1, grants: 0 });
    expect((await admin.request(`${server.url}/admin/users/${finn.id}`)).status).toBe(404);
  });


  it('signs out through the provider', async () => {
    const { html } = await page(admin, '/admin/users');
    const out = await admin.request(`${server.url}/admin/logout`, { method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(html) }) });
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${server.url}/admin/signed-out`);
    expect((await admin.request(`${server.url}/admin/users`)).headers.get('location')).toMatch(/^\/admin\/login/);
  });
});
