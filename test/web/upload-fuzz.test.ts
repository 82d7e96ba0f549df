import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { csrfOf, faceSignIn, fixture } from '../admin/helpers.js';

/**
 * Malformed bodies against every route that reads an upload or a JSON body, signed in and not: each must get a 4xx
 * (or, where the body never completes, a closed connection), and the process must live on. Bodies are written on a
 * raw socket: fetch cannot send a body that is cut short or longer than its Content-Length says.
 */

interface RawReply {
  status: number | null;
  /** The server closed the connection without an answer. */
  closed: boolean;
}

/** Sends one request byte for byte, then half-closes: the server sees the end of whatever was sent. */
function rawRequest(port: number, head: string, body: Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within 20 s to ${head.split('\r\n')[0]}`));
    }, 20_000);
    socket.on('connect', () => {
      socket.write(head);
      socket.end(body);
    });
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: status ? Number(status[1]) : null, closed: !status });
    });
  });
}

interface Route {
  name: string;
  path: string;
  headers: Record<string, string>;
  /** The file field the route reads; the text fields it expects beside it. */
  file: string;
  fields: Record<string, string>;
}

interface Case {
  name: string;
  contentType: string;
  body: Buffer;
  /** Declared length when it is not the body's own. */
  contentLength?: number;
  extraHeaders?: Record<string, string>;
  /** The body never completes: the server may close the connection instead of answering. */
  mayClose?: boolean;
}

const B = 'fuzz-boundary-7MA4YWxkTrZu0gW';
const JPEG = fixture('admin-1.jpg');
const part = (name: string, value: string | Buffer, filename?: string) =>
  Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: image/jpeg` : ''}\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]);
const multipart = `multipart/form-data; boundary=${B}`;

function cases(route: Route): Case[] {
  const fields = Object.entries(route.fields).map(([k, v]) => part(k, v));
  const file = part(route.file, JPEG, 'f.jpg');
  const whole = Buffer.concat([...fields, file, Buffer.from(`--${B}--\r\n`)]);
  const fileStart = Buffer.concat(fields).length;
  const fileDataStart = whole.indexOf('\r\n\r\n', fileStart) + 4;
  const garbage = randomBytes(4096);
  return [
    { name: 'cut inside a file', contentType: multipart, body: whole.subarray(0, fileDataStart + 1000) },
    { name: 'cut inside the part headers', contentType: multipart, body: whole.subarray(0, fileStart + 30) },
    { name: 'no closing boundary', contentType: multipart, body: whole.subarray(0, whole.length - `--${B}--\r\n`.length) },
    { name: 'shorter than its Content-Length', contentType: multipart, body: whole.subarray(0, fileDataStart + 1000), contentLength: whole.length, mayClose: true },
    { name: 'wrong boundary', contentType: 'multipart/form-data; boundary=another-boundary', body: whole },
    { name: 'no boundary', contentType: 'multipart/form-data', body: whole },
    { name: 'empty file', contentType: multipart, body: Buffer.concat([...fields, part(route.file, '', 'f.jpg'), Buffer.from(`--${B}--\r\n`)]) },
    { name: 'not an image', contentType: multipart, body: Buffer.concat([...fields, part(route.file, 'hello', 'f.jpg'), Buffer.from(`--${B}--\r\n`)]) },
    { name: 'thousands of parts', contentType: multipart, body: Buffer.concat([...Array.from({ length: 5000 }, (_, i) => part(`f${i}`, 'x')), Buffer.from(`--${B}--\r\n`)]) },
    {
      name: 'a very long part header line',
      contentType: multipart,
      body: Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${route.file}"; filename="${'a'.repeat(100_000)}"\r\n\r\n`), JPEG, Buffer.from(`\r\n--${B}--\r\n`)]),
    },
    { name: 'a very long request header line', contentType: multipart, body: whole, extraHeaders: { 'X-Padding': 'a'.repeat(100_000) }, mayClose: true },
    { name: 'garbage as multipart', contentType: multipart, body: garbage },
    { name: 'garbage as JPEG', contentType: 'image/jpeg', body: garbage },
    { name: 'JSON cut short', contentType: 'application/json', body: Buffer.from('{"selfie":"/9j/4AAQSkZJRgABAQ') },
    { name: 'JSON shorter than its Content-Length', contentType: 'application/json', body: Buffer.from('{"selfie":"/9j/'), contentLength: 5000, mayClose: true },
    { name: 'invalid JSON', contentType: 'application/json', body: Buffer.from('{,,"a":}') },
    { name: 'deeply nested JSON', contentType: 'application/json', body: Buffer.from('['.repeat(200_000)) },
    { name: 'JSON of the wrong shape', contentType: 'application/json', body: Buffer.from('[1,2,3]') },
  ];
}

function head(route: Route, c: Case): string {
  const headers = { Host: '127.0.0.1', 'Content-Type': c.contentType, 'Content-Length': String(c.contentLength ?? c.body.length), Accept: 'application/json', ...route.headers, ...c.extraHeaders };
  return `POST ${route.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

/** The sign-in page an `/auth` redirect leads to, and the interaction uid and cookies that come with it. */
async function interaction(base: string, start = '/demo/login') {
  const agent = new Agent();
  const { res, url } = await agent.follow(`${base}${start}`);
  const html = await res.text();
  const uid = /\/interaction\/([^/?#]+)/.exec(url)?.[1];
  if (!uid) throw new Error(`no interaction from ${start}: ${url}`);
  const cookie = ['_interaction', '_interaction.legacy', '_interaction.sig', '_interaction.legacy.sig']
    .map((n) => (agent.cookie(n) ? `${n}=${agent.cookie(n)}` : null))
    .filter(Boolean)
    .join('; ');
  return { uid, cookie, csrf: csrfOf(html) || /data-csrf="([^"]+)"/.exec(html)?.[1] || '' };
}

async function healthy(base: string): Promise<number> {
  return (await fetch(`${base}/healthz`)).status;
}

async function fuzz(base: string, port: number, routes: () => Promise<Route[]>, uncaught: () => unknown[] = () => []) {
  const failures: string[] = [];
  for (const route of await routes()) {
    for (const c of cases(route)) {
      const reply = await rawRequest(port, head(route, c), c.body);
      const answered = reply.status !== null && reply.status >= 400 && reply.status < 500;
      if (!(answered || (reply.closed && c.mayClose))) failures.push(`${route.name} / ${c.name}: ${reply.status ?? 'closed'}`);
      const alive = await healthy(base).catch(() => 0);
      if (alive !== 200) throw new Error(`the server died after ${route.name} / ${c.name} (/healthz: ${alive || 'no answer'})`);
      if (uncaught().length) throw new Error(`uncaught error after ${route.name} / ${c.name}: ${String(uncaught()[0])}`);
    }
  }
  expect(failures).toEqual([]);
}

describe('a body cut before its closing boundary, black-box', () => {
  let server: ServerProcess;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-fuzz-'));

  beforeAll(async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, RATE_LIMIT_PER_IP_PER_MINUTE: '100000' });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 400 to the challenge frame route and the process lives on', async () => {
    const { uid, cookie } = await interaction(server.url);
    const body = Buffer.concat([part('_csrf', 'x'), Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="frame"; filename="f.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), JPEG.subarray(0, 2000)]);
    const route: Route = { name: 'challenge frame', path: `/interaction/${uid}/face/challenge/frame`, headers: { Cookie: cookie }, file: 'frame', fields: {} };
    const reply = await rawRequest(server.port, head(route, { name: 'cut', contentType: multipart, body }), body);
    expect(reply.status).toBe(400);
    expect(await healthy(server.url)).toBe(200);
  });

  it('lives through every malformed body on the sign-in routes an anonymous visitor reaches', async () => {
    await fuzz(server.url, server.port, async (): Promise<Route[]> => {
      const ix = await interaction(server.url);
      const headers = { Cookie: ix.cookie, 'X-CSRF-Token': ix.csrf };
      return [
        { name: 'challenge frame', path: `/interaction/${ix.uid}/face/challenge/frame`, headers, file: 'frame', fields: { _csrf: ix.csrf, challenge: 'x' } },
        { name: 'passive capture', path: `/interaction/${ix.uid}/face`, headers, file: 'frame', fields: { _csrf: ix.csrf, capture_token: 'x' } },
        { name: 'guidance check', path: `/interaction/${ix.uid}/face/check`, headers, file: 'frame', fields: { _csrf: ix.csrf } },
        { name: 'Face Match API without a token', path: '/api/v1/face/match', headers: {}, file: 'selfie', fields: {} },
      ];
    });
  }, 180_000);
});

describe('every upload and JSON route, signed in and not', () => {
  let app: TestApp;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-fuzz-'));
  const uncaught: unknown[] = [];
  const record = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
    app = await startApp({ DATA_DIR: dataDir, RATE_LIMIT_PER_IP_PER_MINUTE: '100000', API_RATE_LIMIT_PER_MINUTE: '100000' }, { drawChallenge: new ForcedChallenges().draw });
  }, 120_000);

  afterAll(async () => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers each with a 4xx and stays up', async () => {
    const s = app.services;
    const admin = await seedUser(s, { email: 'ada@example.com', name: 'Ada', admin: true, photos: [RECORDING_FACE] });
    const member = await seedUser(s, { email: 'mo@example.com', name: 'Mo', photos: [RECORDING_FACE] });
    const invited = await s.accounts.create({ email: 'ivy@example.com', name: 'Ivy', password: null, roles: [] });
    const { clientSecret } = await s.clients.create({ name: 'fuzz', grantTypes: ['client_credentials'], scopes: ['face:match'] }, { clientId: 'fuzz' });
    const basic = Buffer.from(`fuzz:${clientSecret}`).toString('base64');
    const token = ((await (await fetch(`${app.url}/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }) })).json()) as { access_token: string }).access_token;

    const adminAgent = new Agent();
    await faceSignIn(adminAgent, `${app.url}/admin/login?next=/admin/users`, admin.email, JPEG, recordingFrames());
    const adminPage = await (await adminAgent.request(`${app.url}/admin/users/${member.id}/enroll`)).text();
    const adminHeaders = { Cookie: adminAgent.cookies(), 'X-CSRF-Token': csrfOf(adminPage) };
    await newSitting(s.kv, member.id);
    const memberAgent = new Agent();
    await faceSignIn(memberAgent, `${app.url}/account/login`, member.email, JPEG, recordingFrames());
    const accountPage = await (await memberAgent.request(`${app.url}/account`)).text();
    const accountHeaders = { Cookie: memberAgent.cookies(), 'X-CSRF-Token': csrfOf(accountPage) };
    await s.settings.update({ proofingEnabled: true }, 'fuzz');
    await s.proofing.giveConsent(member.id);
    expect(adminHeaders['X-CSRF-Token'] && accountHeaders['X-CSRF-Token']).toBeTruthy();

    await fuzz(
      app.url,
      app.port,
      async (): Promise<Route[]> => {
        const invite = await s.invites.create(invited.id, admin.id, 1);
        const invitePage = await new Agent().request(`${app.url}/enroll/${invite.token}`);
        const inviteCookie = invitePage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
        const inviteCsrf = /data-csrf="([^"]+)"/.exec(await invitePage.text())?.[1] ?? '';
        const ix = await interaction(app.url);
        const ixHeaders = { Cookie: ix.cookie, 'X-CSRF-Token': ix.csrf };
        return [
          { name: 'Face Match API', path: '/api/v1/face/match', headers: { Authorization: `Bearer ${token}` }, file: 'selfie', fields: { user_id: member.id } },
          { name: 'Face Match API, no token', path: '/api/v1/face/match', headers: {}, file: 'selfie', fields: {} },
          { name: 'account re-enrollment frame', path: '/account/face/reenroll/challenge/frame', headers: accountHeaders, file: 'frame', fields: { challenge: 'x' } },
          { name: 'account re-enrollment frame, signed out', path: '/account/face/reenroll/challenge/frame', headers: {}, file: 'frame', fields: {} },
          { name: 'account passkey (JSON)', path: '/account/passkeys', headers: accountHeaders, file: 'x', fields: {} },
          { name: 'account proofing document', path: '/account/proofing/document', headers: accountHeaders, file: 'photo', fields: {} },
          { name: 'account proofing frame', path: '/account/proofing/challenge/frame', headers: accountHeaders, file: 'frame', fields: { challenge: 'x' } },
          { name: 'admin enrollment', path: `/admin/users/${member.id}/enroll`, headers: adminHeaders, file: 'photo', fields: {} },
          { name: 'admin enrollment preview', path: `/admin/users/${member.id}/enroll/preview`, headers: adminHeaders, file: 'photo', fields: {} },
          { name: 'admin enrollment, signed out', path: `/admin/users/${member.id}/enroll`, headers: {}, file: 'photo', fields: {} },
          { name: 'invitation photo', path: `/enroll/${invite.token}/photo`, headers: { Cookie: inviteCookie, 'X-CSRF-Token': inviteCsrf }, file: 'photo', fields: { _csrf: inviteCsrf } },
          { name: 'invitation passkey (JSON)', path: `/enroll/${invite.token}/passkey`, headers: { Cookie: inviteCookie, 'X-CSRF-Token': inviteCsrf }, file: 'x', fields: {} },
          { name: 'challenge frame', path: `/interaction/${ix.uid}/face/challenge/frame`, headers: ixHeaders, file: 'frame', fields: { _csrf: ix.csrf, challenge: 'x' } },
          { name: 'identifier (form/JSON)', path: `/interaction/${ix.uid}/identify`, headers: ixHeaders, file: 'x', fields: { _csrf: ix.csrf } },
          { name: 'sign-in passkey (JSON)', path: `/interaction/${ix.uid}/passkey`, headers: ixHeaders, file: 'x', fields: {} },
          { name: 'token endpoint', path: '/token', headers: { Authorization: `Basic ${basic}` }, file: 'x', fields: { grant_type: 'client_credentials' } },
        ];
      },
      () => uncaught,
    );
  }, 600_000);
});
