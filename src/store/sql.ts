import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** The few raw-SQL operations the migration runner needs, over either PostgreSQL or PGlite. */
export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements. */
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}

export async function pgSession(pool: pg.Pool): Promise<SqlSession> {
  const client = await pool.connect();
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(sql) {
      await client.query(sql);
    },
    async release() {
      client.release();
    },
  };
}

export function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async release() {},
  };
}
