import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { runCli } from '../helpers/server.js';
import { FIXTURES } from '../face/helpers.js';

const GOOD = path.join(FIXTURES, 'deepface-img2.jpg');
const ALSO_GOOD = path.join(FIXTURES, 'deepface-img1.jpg');
// Two people of comparable size: enrolment refuses it (MULTIPLE_FACES).
const TWO_PEOPLE = path.join(FIXTURES, 'deepface-couple.jpg');

describe.runIf(requireService('PostgreSQL', hasPostgres))('face-oidc user create/enroll --photo', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let tmp: string;
  let blank: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, SECRET_KEY: TEST_SECRET_KEY, FACE_WORKERS: '1' };
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cli-photos-'));
    blank = path.join(tmp, 'blank.png');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#6a7a8a' } }).png().toFile(blank);
  });
  afterAll(async () => {
    await db?.drop();
    await rm(tmp, { recursive: true, force: true });
  });

  const users = async () => JSON.parse((await runCli(['user', 'list', '--json'], env)).stdout) as { email: string; templates: number }[];

  it('creates nothing when one photo is refused, and a retry with good photos then succeeds', async () => {
    const refused = await runCli(['user', 'create', '--email', 'eve@example.com', '--name', 'Eve', '--photo', GOOD, '--photo', TWO_PEOPLE, '--json'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${TWO_PEOPLE}: `);
    expect(refused.stderr).toContain('MULTIPLE_FACES');
    expect(refused.stderr).toContain('Nothing was changed.');
    expect(refused.stderr).not.toContain(GOOD);
    expect(JSON.parse(refused.stdout)).toMatchObject({ message: expect.stringContaining('MULTIPLE_FACES') });
    expect((await users()).map((u) => u.email)).not.toContain('eve@example.com');

    const missing = await runCli(['user', 'create', '--email', 'eve@example.com', '--name', 'Eve', '--photo', path.join(tmp, 'nope.jpg')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.jpg: cannot read the photo \(ENOENT\)/);
    expect((await users()).map((u) => u.email)).not.toContain('eve@example.com');

    const created = await runCli(['user', 'create', '--email', 'eve@example.com', '--name', 'Eve', '--photo', GOOD, '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ email: 'eve@example.com', templates: [{ file: GOOD }] });
    expect((await users()).find((u) => u.email === 'eve@example.com')).toMatchObject({ templates: 1 });
  });

  it('enrolls all photos or none into an existing account', async () => {
    const refused = await runCli(['user', 'enroll', '--email', 'eve@example.com', '--photo', ALSO_GOOD, '--photo', blank], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${blank}: `);
    expect(refused.stderr).toContain('FACE_NOT_FOUND');
    expect((await users()).find((u) => u.email === 'eve@example.com')).toMatchObject({ templates: 1 });

    const enrolled = await runCli(['user', 'enroll', '--email', 'eve@example.com', '--photo', ALSO_GOOD, '--json'], env);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect((await users()).find((u) => u.email === 'eve@example.com')).toMatchObject({ templates: 2 });
  });
});
