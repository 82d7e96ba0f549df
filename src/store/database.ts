import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient, type Prisma as P } from './generated/client.js';
import { lockDataDir } from './embedded-lock.js';
import { migrate, type MigrationReport } from './migrate.js';
import { pgliteSession, pgSession } from './sql.js';

export type Prisma = PrismaClient;
/** The client inside an interactive transaction (`prisma.$transaction(async (tx) => …)`). */
export type Tx = P.TransactionClient;

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  migrate(): Promise<MigrationReport>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** Named in the lock file so a second process can say who holds the embedded database. */
  holder: string;
  poolSize?: number;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.poolSize ?? 10) : openEmbedded(opts.dataDir, opts.holder);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  // A connection that cannot be made (or a pool slot that does not free up) within 2 s fails the request (503)
  // instead of holding it while PostgreSQL is down; the pool reconnects by itself when it is back.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 2000 });
  // An idle client that loses its connection emits 'error'; without a listener that would crash the process.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    kind: 'postgres',
    async migrate() {
      const session = await pgSession(pool);
      try {
        return await migrate(session);
      } finally {
        await session.release();
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openEmbedded(dataDir: string, holder: string): Promise<Database> {
  const unlock = lockDataDir(dataDir, holder);
  let db: PGlite;
  try {
    db = await PGlite.create(path.join(dataDir, 'pglite'));
  } catch (err) {
    unlock();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    kind: 'pglite',
    migrate: () => migrate(pgliteSession(db)),
    async ping() {
      return !db.closed;
    },
    async close() {
      await prisma.$disconnect();
      await db.close();
      unlock();
    },
  };
}
