import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ROOT_DIR } from '../config/index.js';
import { sha256Hex } from './crypto.js';
import type { SqlSession } from './sql.js';

export const MIGRATIONS_DIR = path.join(ROOT_DIR, 'prisma', 'migrations');

/** Prisma Migrate's lock id: holding it keeps `prisma migrate deploy` and our runner from interleaving. */
const ADVISORY_LOCK = 72707369;

/** DDL of Prisma's bookkeeping table, as prisma-engines creates it for PostgreSQL. */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256Hex(sql) };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations in order under Prisma's advisory lock, one transaction each, and records them in
 * `_prisma_migrations` exactly as Prisma does, so `prisma migrate status/deploy` agree with us.
 */
export async function migrate(session: SqlSession, migrations?: Migration[]): Promise<MigrationReport> {
  const all = migrations ?? (await readMigrations());
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  await session.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK]);
  try {
    await session.exec(MIGRATIONS_TABLE);
    const rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and was not resolved; fix the database, then mark it with \`prisma migrate resolve\``,
      );
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]));
    // The database was built from other SQL than this release ships: applying anything on top could not be trusted.
    const modified = all.filter((m) => done.has(m.name) && done.get(m.name) !== m.checksum).map((m) => m.name);
    if (modified.length) {
      throw new MigrationError(
        `${modified.map((n) => `prisma/migrations/${n}/migration.sql`).join(', ')} changed after it was applied to this database ` +
          '(its checksum differs from the one in _prisma_migrations): restore the file as it was applied and put the change in a new migration',
      );
    }
    for (const m of all) {
      if (done.has(m.name)) {
        report.alreadyApplied.push(m.name);
        continue;
      }
      await session.exec('BEGIN');
      try {
        const id = randomUUID();
        await session.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
          [id, m.checksum, m.name],
        );
        await session.exec(m.sql);
        await session.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE id = $1',
          [id],
        );
        await session.exec('COMMIT');
      } catch (err) {
        await session.exec('ROLLBACK');
        throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
      }
      report.applied.push(m.name);
    }
    return report;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK]);
  }
}
