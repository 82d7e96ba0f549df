import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATCH_PRESETS, runEval } from '../../src/face/index.js';
import { FIXTURES, MODELS_DIR, requireSharedFaces, SHARED_FACES } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'face-eval-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval', () => {
  it('scores fixture pairs, analysing each image once per role and counting images without a face', async () => {
    await sharp({ create: { width: 200, height: 150, channels: 3, background: '#334455' } }).png().toFile(path.join(dir, 'blank.png'));
    const f = (name: string) => path.join(FIXTURES, name);
    const lines = [
      [f('deepface-img1.jpg'), f('deepface-img2.jpg'), 1],
      [f('deepface-img1.jpg'), f('deepface-img17.jpg'), 0],
      [f('deepface-img2.jpg'), f('deepface-img17.jpg'), 0],
      [f('deepface-img2.jpg'), f('silent-face-T1.jpg'), 0],
      [f('deepface-img2.jpg'), 'blank.png', 1],
    ];
    const file = path.join(dir, 'fixtures.tsv');
    await writeFile(file, lines.map((l) => l.join('\t')).join('\n') + '\n');
    const scoresFile = path.join(dir, 'scores.tsv');
    const r = await runEval(file, { modelsDir: MODELS_DIR, poolSize: 1, progress: true, scoresFile });
    expect(r).toMatchObject({ pairs: 5, genuine: 2, impostor: 3, images: 5, failedToDetect: 1, threshold: MATCH_PRESETS['far-1e-4'], tar: {}, scoresFile });
    expect(r.failedImages).toEqual([path.join(dir, 'blank.png')]);
    expect(r).toMatchObject({ subjectNotLargest: 0, subjectNotLargestImages: [] });
    // Enrolment refuses the faceless image; the others are good enrolment photos.
    expect(r.failureToEnroll).toEqual({ count: 1, rate: 1 / 5, byCode: { FACE_NOT_FOUND: 1 }, images: [{ file: path.join(dir, 'blank.png'), codes: ['FACE_NOT_FOUND'] }] });
    // One line per pair in input order: the cosine, −1 for the pair with the faceless image.
    const rows = (await readFile(scoresFile, 'utf8')).trim().split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split('\t'));
    expect(rows.map((c) => [c[0], c[1], c[2]])).toEqual(lines.map(([a, b, same]) => [path.resolve(dir, String(a)), path.resolve(dir, String(b)), String(same)]));
    const cosines = rows.map((c) => Number(c[3]));
    expect(cosines[0]).toBeGreaterThan(r.threshold);
    expect(cosines.slice(1, 4).every((c) => c < r.threshold && c > -1)).toBe(true);
    expect(cosines[4]).toBe(-1);
    // The genuine pair with the faceless image is the only error.
    expect(r.accuracy).toBeCloseTo(4 / 5, 10);
    // It ranks below every impostor pair, the other genuine pair above all of them.
    expect(r.auc).toBe(0.5);
    expect(r.seconds).toBeGreaterThan(0);
  });

});

describe.runIf(requireSharedFaces())('eval on the shared photos', () => {
  const deepface = () => path.join(SHARED_FACES!, 'deepface');

  it('separates the deepface pairs completely (AUC 1, no failure to detect)', async () => {
    const csv = (await readFile(path.join(deepface(), 'manifest_pairs.csv'), 'utf8')).trim().split('\n').slice(1);
    const file = path.join(dir, 'deepface.tsv');
    await writeFile(file, csv.map((l) => l.split(',').map((c, i) => (i < 2 ? path.join(deepface(), c) : c)).join('\t')).join('\n'));
    const r = await runEval(file, { modelsDir: MODELS_DIR, poolSize: 2 });
    expect(r).toMatchObject({ pairs: 520, genuine: 140, impostor: 380, images: 61, failedToDetect: 0, auc: 1, bestAccuracy: 1 });
    // Compared as the product compares: a single probe embedding against a mirror-averaged reference.
    expect(r.embeddings.reference).toBe(`${r.embeddings.probe}+flip`);
    // LFW's protocol on these pairs: threshold fitted on nine folds, accuracy on the tenth.
    expect(r.tenFold!.mean).toBeGreaterThanOrEqual(0.99);
    // img41: a blurred face in the crowd is 1.05 × the subject's size; the size tie goes to the central subject,
    // and enrolment refuses the photo for the comparable second face.
    const img41 = path.join(deepface(), 'img41.jpg');
    expect(r).toMatchObject({ subjectNotLargest: 1, subjectNotLargestImages: [img41] });
    expect(r.failureToEnroll).toMatchObject({ count: 1, byCode: { MULTIPLE_FACES: 1 }, images: [{ file: img41, codes: ['MULTIPLE_FACES'] }] });
    // 380 impostor pairs support FAR 1e-2 only.
    expect(Object.keys(r.tar)).toEqual(['1e-2']);
    expect(r.tar['1e-2']).toBe(1);
    expect(r.accuracy).toBeGreaterThan(0.99);
    expect(r.bestThreshold).toBeGreaterThan(0.4);
    expect(r.bestThreshold).toBeLessThan(0.5);
  });

  it('matches the subject of group photos with the same person and no one else', async () => {
    // couple.jpg and img11_reflection.jpg show the person of cluster person00 as their subject (largest face);
    // the facenet-pytorch group photo's subject is none of the deepface people.
    const identities = (await readFile(path.join(deepface(), 'manifest_identity.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const groups: [string, string | null][] = [
      [path.join(deepface(), 'couple.jpg'), 'person00'],
      [path.join(deepface(), 'img11_reflection.jpg'), 'person00'],
      [path.join(SHARED_FACES!, 'facenet-pytorch', 'multiface.jpg'), null],
    ];
    const lines = groups.flatMap(([group, who]) => identities.map(([file, id]) => `${group}\t${path.join(deepface(), file)}\t${id === who ? 1 : 0}`));
    const file = path.join(dir, 'groups.tsv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const r = await runEval(file, { modelsDir: MODELS_DIR, poolSize: 2 });
    expect(r).toMatchObject({ pairs: 3 * 61, genuine: 16, failedToDetect: 0, auc: 1, bestAccuracy: 1 });
    // At the configured threshold every subject pair matches and no other pair does.
    expect(r.accuracy).toBe(1);
  });
});
