import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p)) ?? null;
/** CI providers set CI to true, 1 or their name; only an unset, empty, 0 or false value means a developer machine. */
export const CI = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

export const hasPostgres = await reachable(async () => {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

export const hasRedis = await reachable(async () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect();
  await redis.quit();
});

/**
 * A test that needs a missing service is skipped with a visible notice on a developer machine; under CI=true
 * the missing service fails the run instead (CI provides all of them).
 */
export function requireService(name: 'PostgreSQL' | 'Redis' | 'Chromium', available: boolean): boolean {
  if (available) return true;
  if (CI) throw new Error(`${name} is required under CI=true but is not available`);
  console.warn(`\n⚠ ${name} is not available on this machine: the tests that need it are skipped.\n`);
  return false;
}

/**
 * A pool on a test database. pool.end() resolves before its clients' connections have closed, so the
 * DROP DATABASE … WITH (FORCE) that follows can terminate one of them; the pool re-emits that as 'error', which
 * without a listener is an uncaught exception.
 */
export function testPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', () => {});
  return pool;
}

/** A fresh PostgreSQL database for one test file. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fo_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export const TEST_SECRET_KEY = randomBytes(32).toString('hex');

/** A Redis key prefix of its own, for test servers that must share one (instances of a cluster, a restart). */
export const uniqueRedisPrefix = () => `test-${randomBytes(4).toString('hex')}:`;

export function gitRoot(): string {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
}
