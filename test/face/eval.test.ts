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
  it('scores fixture pairs, analysing each image once and counting images without a face', async () => {
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
    const r = await runEval(file, { modelsDir: MODELS_DIR, poolSize: 1, progress: true });
    expect(r).toMatchObject({ pairs: 5, genuine: 2, impostor: 3, images: 5, failedToDetect: 1, threshold: MATCH_PRESETS['far-1e-4'], tar: {} });
    expect(r.failedImages).toEqual([path.join(dir, 'blank.png')]);
    // The genuine pair with the faceless image is the only error.
    expect(r.accuracy).toBeCloseTo(4 / 5, 10);
    // It ranks below every impostor pair, the other genuine pair above all of them.
    expect(r.auc).toBe(0.5);
    expect(r.seconds).toBeGreaterThan(0);
  });

  it.runIf(requireSharedFaces())('separates the deepface pairs completely (AUC 1, no failure to detect)', async () => {
    const deepface = path.join(SHARED_FACES!, 'deepface');
    const csv = (await readFile(path.join(deepface, 'manifest_pairs.csv'), 'utf8')).trim().split('\n').slice(1);
    const file = path.join(dir, 'deepface.tsv');
    await writeFile(file, csv.map((l) => l.split(',').map((c, i) => (i < 2 ? path.join(deepface, c) : c)).join('\t')).join('\n'));
    const r = await runEval(file, { modelsDir: MODELS_DIR, poolSize: 2 });
    expect(r).toMatchObject({ pairs: 520, genuine: 140, impostor: 380, images: 61, failedToDetect: 0, auc: 1, bestAccuracy: 1 });
    // 380 impostor pairs support FAR 1e-2 only.
    expect(Object.keys(r.tar)).toEqual(['1e-2']);
    expect(r.tar['1e-2']).toBe(1);
    expect(r.accuracy).toBeGreaterThan(0.99);
    expect(r.bestThreshold).toBeGreaterThan(0.4);
    expect(r.bestThreshold).toBeLessThan(0.5);
  });
});
