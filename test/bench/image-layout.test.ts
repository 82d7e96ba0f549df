import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

/**
 * The Docker image holds dist, models, views, prisma/migrations and package.json, and no test/ folder (see the
 * Dockerfile's run stage): `face-oidc bench` must find everything it needs there.
 */
const IMAGE_LAYOUT = ['dist', 'models', 'views', 'prisma/migrations', 'package.json'];

let app: string;
beforeAll(async () => {
  app = await mkdtemp(path.join(os.tmpdir(), 'face-oidc-image-'));
  for (const entry of IMAGE_LAYOUT) await cp(path.join(ROOT, entry), path.join(app, entry), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'), 'dir');
});
afterAll(async () => {
  await rm(app, { recursive: true, force: true });
});

describe('benchmarks in the image layout', () => {
  it('ships the sample photos with the compiled benchmarks, and the Dockerfile keeps them', async () => {
    const entries = await readdir(path.join(ROOT, 'src/bench/sample'), { recursive: true, withFileTypes: true });
    const shipped = entries.filter((e) => e.isFile()).map((e) => path.relative(path.join(ROOT, 'src/bench/sample'), path.join(e.parentPath, e.name))).sort();
    expect(shipped).toEqual(expect.arrayContaining(['SOURCES.md', 'deepface-img1.jpg', 'deepface-img2.jpg', 'challenge-up-right/frame_0001.jpg']));
    for (const file of shipped) {
      expect((await readFile(path.join(ROOT, 'dist/bench/sample', file))).equals(await readFile(path.join(ROOT, 'src/bench/sample', file))), file).toBe(true);
    }
    for (const file of await readdir(path.join(ROOT, 'dist/bench'))) {
      if (file.endsWith('.js')) expect(await readFile(path.join(ROOT, 'dist/bench', file), 'utf8'), file).not.toMatch(/test\/fixtures/);
    }
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY src \.\/src$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const ignored = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    expect(ignored.filter((l) => l === 'src' || l.startsWith('src/'))).toEqual([]);
  });

  it('runs face-oidc bench without --image and prints the peer-comparable figure first', { timeout: 300_000 }, async () => {
    // From the copy, in its own folder: nothing may resolve to the repository's test/ folder.
    const env: NodeJS.ProcessEnv = { ...process.env, FACE_WORKERS: '2', LOG_LEVEL: 'warn' };
    delete env.MODELS_DIR;
    const r = await promisify(execFile)(process.execPath, [path.join(app, 'dist/cli/main.js'), 'bench', '--seconds', '1'], { cwd: app, env, timeout: 280_000 });
    expect(r.stdout.split('\n')[0]).toMatch(/^one verification of one image \(640×480, \d+ bytes\), one in flight: p50 [\d.]+ ms$/);
    for (const row of ['face p50 ms', 'capture POST p50 ms (3 frames)', 'API match p50 ms', 'challenge CPU p50 ms (completed)']) expect(r.stdout).toContain(row);
  });
});
