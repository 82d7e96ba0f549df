import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.js';
import { CI, freePort, TEST_SECRET_KEY } from '../helpers/env.js';
import { eventually } from '../helpers/wait.js';

/**
 * A store that goes down mid-traffic: a Redis and a PostgreSQL of the test's own (on ports of their own) are stopped
 * and started again while the app runs. Calls that need the missing store answer 503 with Retry-After at once,
 * /readyz says not ready within a few seconds, and everything works again when the store is back.
 */
const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p)) ?? null;
const available = REDIS_SERVER !== null && existsSync(`${PG_BIN}/initdb`) && existsSync(`${PG_BIN}/pg_ctl`);
if (!available) {
  if (CI) throw new Error(`redis-server and ${PG_BIN}/{initdb,pg_ctl} are required under CI=true`);
  console.warn(`\n⚠ redis-server or PostgreSQL 15's initdb/pg_ctl is missing: the store-outage test is skipped.\n`);
}
/** PostgreSQL refuses to run as root: there, the cluster belongs to the postgres user. */
const asRoot = process.getuid?.() === 0;
const pgCommand = (bin: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', `${PG_BIN}/${bin}`, ...args]) : run(`${PG_BIN}/${bin}`, args));

/** How long one call may take while a store is down ("a second or two"). */
const FAST_MS = 2500;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(!!socket.destroy()));
    socket.once('error', () => resolve(false));
  });
}

class OwnRedis {
  private child: ChildProcess | null = null;
  constructor(readonly port: number) {}
  async start() {
    this.child = spawn(REDIS_SERVER!, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(() => listening(this.port), Boolean, `redis-server on ${this.port} listening`, 10_000);
  }
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

class OwnPostgres {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'fo-outage-pg-'));
  constructor(readonly port: number) {
    if (asRoot) chownSync(this.dir, uidOf('postgres'), 0);
  }
  get url() {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }
  async init() {
    await pgCommand('initdb', ['-D', `${this.dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }
  start() {
    return pgCommand('pg_ctl', ['-D', `${this.dir}/data`, '-l', `${this.dir}/log`, '-w', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  }
  stop() {
    return pgCommand('pg_ctl', ['-D', `${this.dir}/data`, '-m', 'fast', '-w', 'stop']);
  }
  async remove() {
    await this.stop().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no ${user} user to own the PostgreSQL cluster`);
  return Number(line.split(':')[2]);
}

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  body: string;
}

describe.skipIf(!available)('store outage', () => {
  let redis: OwnRedis;
  let postgres: OwnPostgres;
  let app: TestApp;
  let clientSecret: string;
  const figures: string[] = [];

  async function timed(url: string, init: RequestInit = {}): Promise<Answer> {
    const started = performance.now();
    const res = await fetch(url, { redirect: 'manual', ...init });
    const body = await res.text();
    return { status: res.status, ms: Math.round(performance.now() - started), retryAfter: res.headers.get('retry-after'), body };
  }
  const readyz = () => timed(`${app.url}/readyz`);
  /** The provider's token endpoint: the client from PostgreSQL, the token into Redis. */
  const tokenCall = () =>
    timed(`${app.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`outage-app:${clientSecret}`).toString('base64')}`, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }),
    });
  /** The Face Match API: the token from Redis, the client and the record from PostgreSQL. */
  const apiCall = (token: string) => timed(`${app.url}/api/v1/face/match/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${token}` } });
  /** A page (the admin console's sign-in keeps its state in Redis). */
  const pageCall = () => timed(`${app.url}/admin/login`, { headers: { accept: 'text/html' } });
  async function freshToken(): Promise<string> {
    const res = await tokenCall();
    expect(res.status, res.body).toBe(200);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  }

  /** Every answer while the store is down: 503 with Retry-After, within FAST_MS. */
  function expectOutage(a: Answer, what: string) {
    expect(a.status, `${what}: ${a.body.slice(0, 200)}`).toBe(503);
    expect(Number(a.retryAfter), `${what}: Retry-After`).toBeGreaterThanOrEqual(1);
    expect(a.ms, `${what}: answered in ${a.ms} ms`).toBeLessThan(FAST_MS);
  }

  /** Polls /readyz until it answers `status`; returns the milliseconds it took. */
  async function readyzBecomes(status: number): Promise<number> {
    const started = performance.now();
    await eventually(readyz, (a) => a.status === status, `/readyz answering ${status}`, 15_000);
    return Math.round(performance.now() - started);
  }

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    postgres = new OwnPostgres(await freePort());
    await Promise.all([redis.start(), postgres.init().then(() => postgres.start())]);
    app = await startApp({ DATABASE_URL: postgres.url, REDIS_URL: `redis://127.0.0.1:${redis.port}`, SECRET_KEY: TEST_SECRET_KEY, DATA_DIR: postgres.dir, DEMO_APP: 'false', LOG_LEVEL: 'silent' });
    const created = await app.services.clients.create({ name: 'outage-app', grantTypes: ['client_credentials'], scopes: ['face:match'], matchRules: null, matchEnrolledUsers: false }, { clientId: 'outage-app' });
    clientSecret = created.clientSecret!;
  }, 90_000);

  afterAll(async () => {
    if (figures.length) console.info(`store outage figures:\n  ${figures.join('\n  ')}`);
    await app?.stop();
    await redis?.stop();
    await postgres?.remove();
  }, 30_000);

  it('answers 503 + Retry-After at once while Redis is down, turns /readyz 503, and resumes when it is back', async () => {
    const token = await freshToken();
    expect((await apiCall(token)).status).toBe(404);
    expect((await pageCall()).status).toBe(302);
    expect((await readyz()).status).toBe(200);

    // Traffic is in flight when Redis goes away.
    const inFlight = Promise.all(Array.from({ length: 6 }, () => apiCall(token)));
    await redis.stop();
    for (const a of await inFlight) expect(a.status === 404 || a.status === 503, `in flight: ${a.status} ${a.body}`).toBe(true);
    const down = await readyzBecomes(503);
    for (let round = 0; round < 2; round++) {
      expectOutage(await apiCall(token), 'API while Redis is down');
      expectOutage(await tokenCall(), '/token while Redis is down');
      const page = await pageCall();
      expectOutage(page, '/admin while Redis is down');
      expect(page.body).toContain('STORE_UNAVAILABLE');
    }
    const api = await apiCall(token);
    expect(JSON.parse(api.body)).toMatchObject({ status: false, code: 503, errorCodes: ['STORE_UNAVAILABLE'] });
    expect(JSON.parse((await tokenCall()).body)).toMatchObject({ error: 'temporarily_unavailable' });

    await redis.start();
    const up = await readyzBecomes(200);
    // The restarted Redis kept nothing: a new token, and every surface works again.
    expect((await apiCall(await freshToken())).status).toBe(404);
    expect((await pageCall()).status).toBe(302);
    figures.push(`Redis down: API ${api.status} in ${api.ms} ms; /readyz 503 after ${down} ms; back: /readyz 200 after ${up} ms`);
  }, 60_000);

  it('answers 503 + Retry-After at once while PostgreSQL is down, turns /readyz 503, and resumes when it is back', async () => {
    const token = await freshToken();
    expect((await apiCall(token)).status).toBe(404);

    const inFlight = Promise.all(Array.from({ length: 6 }, () => apiCall(token)));
    await postgres.stop();
    for (const a of await inFlight) expect(a.status === 404 || a.status === 503, `in flight: ${a.status} ${a.body}`).toBe(true);
    const down = await readyzBecomes(503);
    let api: Answer | null = null;
    for (let round = 0; round < 2; round++) {
      api = await apiCall(token);
      expectOutage(api, 'API while PostgreSQL is down');
      expectOutage(await tokenCall(), '/token while PostgreSQL is down');
    }
    expect(JSON.parse(api!.body)).toMatchObject({ status: false, code: 503, errorCodes: ['STORE_UNAVAILABLE'] });

    await postgres.start();
    const up = await readyzBecomes(200);
    expect((await apiCall(token)).status).toBe(404);
    expect((await tokenCall()).status).toBe(200);
    figures.push(`PostgreSQL down: API ${api!.status} in ${api!.ms} ms; /readyz 503 after ${down} ms; back: /readyz 200 after ${up} ms`);
  }, 60_000);
});
