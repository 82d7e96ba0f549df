import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/env.js';

/** The queue's own SQL (claim with SKIP LOCKED, leases in UTC) on the embedded database that `npm start` uses. */
describe('back-channel logout on the embedded database (PGlite)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-bcl-embedded-'));
  let app: TestApp;
  let rp: Server;
  const tokens: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    rp = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => rp.listen(port, '127.0.0.1', resolve));
    app = await startApp({ DATA_DIR: dataDir });
    expect(app.services.db.kind).toBe('pglite');
    await app.services.clients.create({ name: 'Embedded RP', redirectUris: ['http://127.0.0.1:9/cb'], backchannelLogoutUri: `http://localhost:${port}/bcl`, backchannelLogoutSessionRequired: true }, { clientId: 'embedded-rp' });
  });

  afterAll(async () => {
    await app?.stop();
    await new Promise((resolve) => rp?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('queues, claims and delivers a logout token', async () => {
    const accountId = (await app.services.accounts.create({ email: 'em@example.com', name: 'Em', password: null })).id;
    await app.services.logouts.notify([{ clientId: 'embedded-rp', accountId, sid: 'sid-1' }, { clientId: 'face-oidc-demo', accountId, sid: 'sid-1' }], 'session.revoke');
    // Only the app that registered a URI gets a notice.
    await expect.poll(() => tokens.length, { timeout: 5000 }).toBe(1);
    expect(decodeJwt(tokens[0])).toMatchObject({ aud: 'embedded-rp', sub: accountId, sid: 'sid-1', iss: app.url });
    await expect.poll(() => app.services.db.prisma.backchannelLogout.count(), { timeout: 5000 }).toBe(0);
  });
});
