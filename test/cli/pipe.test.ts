import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openServices } from '../../src/server/services.js';
import { CLI } from '../helpers/server.js';

/** Reads all of stdin, parses it as JSON and prints how many bytes and entries arrived. */
const READER = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s);console.log(JSON.stringify({bytes:Buffer.byteLength(s),entries:v.length}))})";

describe('CLI output through a pipe', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-pipe-'));
  /** About 210 bytes each in `user list --json`: well past 64 KiB. */
  const USERS = 500;

  beforeAll(async () => {
    const s = await openServices(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), 'the pipe test');
    try {
      await s.db.prisma.user.createMany({ data: Array.from({ length: USERS }, (_, i) => ({ email: `person-${i}@example.com`, name: `Person Number ${i}`, roles: [] })) });
    } finally {
      await s.close();
    }
  }, 120_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('arrives whole when larger than the pipe buffer', async () => {
    // Through a shell pipe, as `face-oidc user list --json | jq` would read it.
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', `"${process.execPath}" "${CLI}" user list --json | "${process.execPath}" -e "${READER}"`], {
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    const { bytes, entries } = JSON.parse(stdout) as { bytes: number; entries: number };
    expect(bytes).toBeGreaterThan(64 * 1024);
    expect(entries).toBe(USERS);
  }, 90_000);
});
