import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { csrfOf, faceSignIn, fixture, photoForm } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { authorizationUrl, discover, exchange, signIn, type RpClient } from '../helpers/flow.js';
import { evidence } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';

/** The console's view of identity proofing (state, evidence, revoke, settings) and an app that requires proofing. */
describe('identity proofing in the admin console and for apps that require it', () => {
  let app: TestApp;
  let dir: string;
  let admin: Agent;
  let adminId: string;
  let ada: string;

  const get = async (agent: Agent, url: string) => {
    const { res } = await agent.follow(`${app.url}${url}`);
    return { status: res.status, html: await res.text() };
  };
  const post = async (agent: Agent, url: string, fields: Record<string, string>, csrf: string) => {
    const { res } = await agent.follow(`${app.url}${url}`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { status: res.status, html: await res.text() };
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proofing-admin-'));
    app = await startApp({ DATA_DIR: dir, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' }, { drawChallenge: new ForcedChallenges().draw });
    const boss = await seedUser(app.services, { email: 'boss@example.com', name: 'Boss', admin: true, photos: [RECORDING_FACE] });
    adminId = boss.id;
    ada = (await app.services.accounts.create({ email: 'ada@example.com', name: 'Ada', password: PASSWORD })).id;
    admin = new Agent();
    await newSitting(app.services.kv, adminId);
    const signedIn = await faceSignIn(admin, `${app.url}/admin`, 'boss@example.com', readFileSync(RECORDING_FACE), recordingFrames());
    expect(new URL(signedIn.url).pathname).toMatch(/^\/admin/);
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns the flow on and sets the validity in the settings', async () => {
    const page = await get(admin, '/admin/settings');
    expect(page.html).toContain('data-testid="settings-proofing-enabled"');
    const s = await app.services.settings.get();
    const form: Record<string, string> = { proofingEnabled: 'on', proofingAfterInvite: 'on', proofingValidityDays: '90' };
    for (const k of ['matchPreset', 'livenessThreshold', 'apiReviewScore', 'apiAcceptScore', 'faceFailuresBeforeDelay', 'failureDelaySeconds', 'faceFailuresBeforeLockout', 'passwordFailuresBeforeDelay', 'passwordFailuresBeforeLockout', 'templateRetentionDays', 'auditRetentionDays'] as const) {
      form[k] = String(s[k]);
    }
    const saved = await post(admin, '/admin/settings', form, csrfOf(page.html));
    expect(saved.html).toContain('Settings saved.');
    expect(await app.services.settings.current()).toMatchObject({ proofingEnabled: true, proofingAfterInvite: true, proofingValidityDays: 90 });
  });

  it('asks a person who finished an invitation to confirm their identity next', async () => {
    const ivy = await app.services.accounts.create({ email: 'ivy@example.com', name: 'Ivy', password: null });
    const { token } = await app.services.invites.create(ivy.id, adminId);
    const link = `${app.url}/enroll/${token}`;
    const person = new Agent();
    const agreed = await person.submit(link, await (await person.request(link)).text(), `/enroll/${token}/consent`, { agree: 'yes' });
    const csrf = /data-csrf="([^"]+)"/.exec(await agreed.res.text())![1]!;
    const sent = await person.request(`${link}/photo`, { method: 'POST', body: photoForm(fixture('user-2.jpg')), headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    expect(sent.status).toBe(200);
    const done = await (await person.request(`${link}/done`)).text();
    expect(done).toContain('data-testid="enroll-proofing-next"');
    expect(done).toContain('href="/account/proofing"');
  });

  it('shows each account’s proofing state and evidence, without the identity data, and revokes it', async () => {
    await app.services.proofing.giveConsent(ada);
    await app.services.proofing.record(ada, evidence());
    const list = await get(admin, '/admin/users');
    expect(list.html).toMatch(/data-testid="user-proofing"><span class="badge ok">Confirmed/);

    const show = await get(admin, `/admin/users/${ada}`);
    expect(show.html).toContain('data-testid="user-proofing-panel"');
    expect(show.html).toContain('Passport · issued by GBR');
    expect(show.html).toContain('(<code>bvr</code>)');
    expect(show.html).not.toContain('LOVELACE');

    const noReason = await post(admin, `/admin/users/${ada}/proofing/revoke`, { reason: '' }, csrfOf(show.html));
    expect(noReason.status).toBe(400);
    const revoked = await post(admin, `/admin/users/${ada}/proofing/revoke`, { reason: 'document reported stolen' }, csrfOf(show.html));
    expect(revoked.html).toContain('Identity check revoked');
    expect(revoked.html).toMatch(/data-testid="user-proofing-state"><span class="badge bad">Revoked/);
    expect(await app.services.proofing.verified(ada)).toBeNull();
    const [event] = await app.services.audit.list({ userId: ada, type: 'proofing.revoke' }, 1);
    expect(event).toMatchObject({ actorId: adminId, details: { reason: 'document reported stolen' } });
  });

  it('an app that requires proofing sends a person without one to the flow first, and lets them through after it', async () => {
    const s = app.services;
    const { client, clientSecret } = await s.clients.create({ name: 'Bank', redirectUris: [REDIRECT], allowPasswordOnly: true, requiresProofing: true });
    const bank: RpClient = await discover(app.url, client.clientId, clientSecret ?? undefined, REDIRECT);
    const agent = new Agent();
    const start = await authorizationUrl(bank, { acr_values: ACR.password });
    const refused = await signIn(agent, start, { email: 'ada@example.com', password: PASSWORD }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    const pageUrl = /unexpected page (\S+) \(200\)/.exec((refused as Error).message)?.[1];
    const page = await agent.follow(pageUrl!);
    const html = await page.res.text();
    expect(html).toContain('data-testid="proofing-required"');
    expect(html).toContain(`/account/proofing?next=${encodeURIComponent(new URL(pageUrl!).pathname)}`);

    // "Continue" without a proofing: still nothing for the app.
    const early = await agent.submit(pageUrl!, html, /action="([^"]+consent)"/.exec(html)![1], {});
    expect(early.res.status).toBe(403);
    expect(await early.res.text()).toContain('data-testid="proofing-required-error"');

    await s.proofing.record(ada, evidence());
    const done = await agent.submit(pageUrl!, html, /action="([^"]+consent)"/.exec(html)![1], {}, (u) => u.origin !== new URL(app.url).origin);
    let url = new URL(done.url);
    if (url.origin === new URL(app.url).origin) url = await signIn(agent, { url }, { email: 'ada@example.com', password: PASSWORD });
    const tokens = await exchange(bank, start, url);
    expect(tokens.claims()?.sub).toBe(ada);
  });
});
