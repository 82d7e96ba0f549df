import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server.js';
import { FIXTURES } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'face-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('face-oidc eval', () => {
  it('prints the subject and failure-to-enroll figures and writes per-pair scores with --scores', async () => {
    const f = (name: string) => path.join(FIXTURES, name);
    const pairs = path.join(dir, 'pairs.tsv');
    await writeFile(pairs, [`${f('deepface-img1.jpg')}\t${f('deepface-img2.jpg')}\t1`, `${f('deepface-couple.jpg')}\t${f('deepface-img2.jpg')}\t1`, `${f('deepface-img17.jpg')}\t${f('deepface-img2.jpg')}\t0`].join('\n'));
    const scores = path.join(dir, 'scores.tsv');
    const r = await runCli(['eval', '--pairs', pairs, '--scores', scores, '--json'], { FACE_WORKERS: '1' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ pairs: 3, images: 4, failedToDetect: 0, accuracy: 1, subjectNotLargest: 0, scoresFile: scores });
    // The couple photo enrols nobody (a second face of comparable size), yet its subject matches the person of img2.
    expect(out.failureToEnroll).toMatchObject({ count: 1, byCode: { MULTIPLE_FACES: 1 }, images: [{ file: f('deepface-couple.jpg') }] });
    const rows = (await readFile(scores, 'utf8')).trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(rows).toHaveLength(3);
    expect(rows.map((l) => Number(l.split('\t')[3]) > out.threshold)).toEqual([true, true, false]);
  });
});
