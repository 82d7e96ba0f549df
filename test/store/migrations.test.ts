import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/database.js';
import { readMigrations } from '../../src/store/migrate.js';
import { createTestDatabase, hasPostgres, requireService } from '../helpers/env.js';
import { ROOT } from '../helpers/server.js';

type Column = { table_name: string; column_name: string; udt_name: string; is_nullable: 'YES' | 'NO'; data_type: string };

const PG_TYPES: Record<string, string[]> = {
  String: ['text', 'uuid'],
  Boolean: ['bool'],
  Int: ['int4'],
  BigInt: ['int8'],
  Float: ['float8'],
  DateTime: ['timestamp'],
  Json: ['jsonb'],
  Bytes: ['bytea'],
};

interface SchemaField {
  model: string;
  table: string;
  column: string;
  type: string;
  optional: boolean;
  list: boolean;
  isEnum: boolean;
  /** A native type attribute (`@db.Date`), which names the column's PostgreSQL type itself. */
  native: string | null;
}

/** Scalar fields of schema.prisma with their table and column names (the schema's own, small syntax). */
function schemaFields(): SchemaField[] {
  const text = readFileSync(path.join(ROOT, 'prisma', 'schema.prisma'), 'utf8');
  const enums = new Set([...text.matchAll(/^enum (\w+)/gm)].map((m) => m[1]));
  const models = [...text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
  const modelNames = new Set(models.map((m) => m[1]));
  const fields: SchemaField[] = [];
  for (const [, model, body] of models) {
    const table = /@@map\("(\w+)"\)/.exec(body)?.[1] ?? model;
    for (const line of body.split('\n')) {
      const m = /^\s+(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!m || line.trim().startsWith('//') || line.trim().startsWith('@@')) continue;
      const [, name, type, list, optional, rest] = m;
      if (modelNames.has(type)) continue; // relation field, no column
      fields.push({ model, table, column: /@map\("(\w+)"\)/.exec(rest)?.[1] ?? name, type, optional: Boolean(optional), list: Boolean(list), isEnum: enums.has(type), native: /@db\.(\w+)/.exec(rest)?.[1]?.toLowerCase() ?? null });
    }
  }
  return fields;
}

async function columns(db: Database): Promise<Column[]> {
  return db.prisma.$queryRawUnsafe<Column[]>(
    `SELECT table_name, column_name, udt_name, is_nullable, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
  );
}

async function checkMigrations(db: Database) {
  const all = await readMigrations();
  const first = await db.migrate();
  expect(first.applied).toEqual(all.map((m) => m.name));
  const second = await db.migrate();
  expect(second.applied).toEqual([]);
  expect(second.alreadyApplied).toEqual(all.map((m) => m.name));

  // Prisma's own bookkeeping, as `prisma migrate status` reads it.
  const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]>(
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
  expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(all.map((m) => [m.name, m.checksum, 1]));
  expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);

  // schema.prisma and the migrated database agree column by column: type, list-ness and nullability.
  const actual = await columns(db);
  const expected = schemaFields();
  const key = (t: string, c: string) => `${t}.${c}`;
  expect(new Set(actual.map((c) => key(c.table_name, c.column_name)))).toEqual(new Set(expected.map((f) => key(f.table, f.column))));
  for (const f of expected) {
    const col = actual.find((c) => c.table_name === f.table && c.column_name === f.column)!;
    if (f.list) {
      expect(col.data_type, key(f.table, f.column)).toBe('ARRAY');
      expect(PG_TYPES[f.type].map((t) => `_${t}`), key(f.table, f.column)).toContain(col.udt_name);
    } else if (f.isEnum) {
      expect(col.udt_name, key(f.table, f.column)).toBe(f.type);
    } else {
      expect(f.native ? [f.native] : PG_TYPES[f.type], key(f.table, f.column)).toContain(col.udt_name);
    }
    // Prisma leaves list columns nullable in SQL; scalar ones are NOT NULL unless optional.
    if (!f.list) expect(col.is_nullable === 'YES', key(f.table, f.column)).toBe(f.optional);
  }

  // The generated client works against the migrated schema (unique violations map to P2002).
  await db.prisma.user.create({ data: { email: 'a@example.com', name: 'A' } });
  await expect(db.prisma.user.create({ data: { email: 'a@example.com', name: 'B' } })).rejects.toMatchObject({ code: 'P2002' });
}

describe('migrations on embedded PGlite', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('apply on an empty database, are idempotent, and agree with schema.prisma', async () => {
    const db = await openDatabase({ databaseUrl: null, dataDir: dir, holder: 'test' });
    try {
      await checkMigrations(db);
    } finally {
      await db.close();
    }
  });

  it('refuse a second process while one holds the embedded database', async () => {
    const db = await openDatabase({ databaseUrl: null, dataDir: dir, holder: 'test holder' });
    try {
      const { spawnSync } = await import('node:child_process');
      const script = `import('${path.join(ROOT, 'dist/store/database.js')}').then(m => m.openDatabase({ databaseUrl: null, dataDir: '${dir}', holder: 'other' })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/in use by test holder/);
    } finally {
      await db.close();
    }
  });
});

describe.runIf(requireService('PostgreSQL', hasPostgres))('migrations on PostgreSQL', () => {
  it('apply on an empty database, are idempotent, and agree with schema.prisma', async () => {
    const test = await createTestDatabase();
    const db = await openDatabase({ databaseUrl: test.url, dataDir: '', holder: 'test' });
    try {
      await checkMigrations(db);
    } finally {
      await db.close();
      await test.drop();
    }
  });
});
