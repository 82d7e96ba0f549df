import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE, estimateSimilarity } from '../../src/face/align.js';
import { decodeDetections, iou, nms } from '../../src/face/detect.js';
import { landmarkCrop } from '../../src/face/landmarks.js';
import { livenessCrop } from '../../src/face/liveness.js';
import { MATCH_PRESETS, readPairs, SCORE_KNOTS, scoreToSimilarity, similarityToScore } from '../../src/face/index.js';
import { accuracyAt, bestThreshold, kFoldAccuracy, percentile, rocAuc, tarAtFar } from '../../src/face/metrics.js';

describe('similarity score', () => {
  it('maps the FAR presets to 60, 70 and 80', () => {
    expect(similarityToScore(MATCH_PRESETS['far-1e-3'])).toBe(60);
    expect(similarityToScore(MATCH_PRESETS['far-1e-4'])).toBe(70);
    expect(similarityToScore(MATCH_PRESETS['far-1e-5'])).toBe(80);
    expect(similarityToScore(1)).toBe(100);
    expect(similarityToScore(0)).toBe(0);
    expect(similarityToScore(-0.7)).toBe(0);
    expect(SCORE_KNOTS[0]).toEqual([0, 0]);
  });

  it('is monotone and inverted by scoreToSimilarity', () => {
    let prev = -1;
    for (let c = -1; c <= 1; c += 0.001) {
      const s = similarityToScore(c);
      expect(s).toBeGreaterThanOrEqual(prev);
      prev = s;
    }
    for (const score of [10, 60, 65, 70, 75, 80, 95]) expect(similarityToScore(scoreToSimilarity(score))).toBeCloseTo(score, 1);
    expect(scoreToSimilarity(70)).toBeCloseTo(MATCH_PRESETS['far-1e-4'], 6);
  });
});

describe('verification metrics', () => {
  it('computes AUC with ties, accuracy and the best threshold', () => {
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.5], [0.5])).toBe(0.5);
    expect(rocAuc([0.3, 0.9], [0.5])).toBe(0.5);
    expect(accuracyAt([0.9, 0.3], [0.1, 0.5], 0.4)).toBe(0.5);
    const best = bestThreshold([0.7, 0.8, 0.9], [0.1, 0.2, 0.6]);
    expect(best).toEqual({ threshold: expect.closeTo(0.65, 9), accuracy: 1 });
  });

  it('finds the TAR at a FAR from the impostor tail', () => {
    const impostor = Array.from({ length: 100 }, (_, i) => i / 100); // 0.00 … 0.99
    const genuine = [0.5, 0.985, 0.995, 1];
    // FAR 1e-2 allows one impostor above the threshold: threshold = second highest impostor (0.98).
    expect(tarAtFar(genuine, impostor, 1e-2)).toEqual({ tar: 0.75, threshold: 0.98 });
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
  });

  it('holds out each of ten folds (consecutive blocks of genuine and of impostor pairs) with a threshold fitted on the other nine', () => {
    // Two genuine and two impostor pairs a fold. Fold 3 (the 7th and 8th of each) has impostors at 0.7: the other
    // folds' threshold (0.5) accepts them, while a threshold fitted on fold 3 itself (0.75) would not.
    const genuine = Array.from({ length: 20 }, () => 0.8);
    const impostor = Array.from({ length: 20 }, (_, i) => (i === 6 || i === 7 ? 0.7 : 0.2));
    const r = kFoldAccuracy(genuine, impostor)!;
    expect(r.accuracies).toEqual([1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1]);
    expect(r.thresholds.map((t) => Math.round(t * 100) / 100)).toEqual([0.75, 0.75, 0.75, 0.5, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75]);
    expect(r.mean).toBeCloseTo(0.95, 12);
    expect(r.std).toBeCloseTo(0.15, 12);
    expect(kFoldAccuracy(genuine.slice(0, 9), impostor)).toBeNull();
  });
});

describe('pairs file', () => {
  it('parses tab-separated pairs relative to the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pairs-'));
    try {
      const file = path.join(dir, 'pairs.tsv');
      await writeFile(file, '# comment\na.jpg\tsub/b.jpg\t1\n\n/abs/c.jpg\ta.jpg\t0\r\n');
      expect(await readPairs(file)).toEqual([
        { a: path.join(dir, 'a.jpg'), b: path.join(dir, 'sub/b.jpg'), same: true },
        { a: '/abs/c.jpg', b: path.join(dir, 'a.jpg'), same: false },
      ]);
      await writeFile(file, 'a.jpg b.jpg 1\n');
      await expect(readPairs(file)).rejects.toThrow(/pairs.tsv:1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('detection post-processing', () => {
  it('keeps confident boxes, scales them and suppresses overlaps', () => {
    const scores = new Float32Array([0.1, 0.9, 0.2, 0.8, 0.5, 0.5, 0.05, 0.95]);
    const boxes = new Float32Array([0.1, 0.1, 0.3, 0.4, 0.11, 0.1, 0.31, 0.41, 0.5, 0.5, 0.6, 0.6, 0.6, 0.2, 0.8, 0.5]);
    const faces = decodeDetections(scores, boxes, 100, 200);
    expect(faces.map((f) => f.score)).toEqual([expect.closeTo(0.95, 5), expect.closeTo(0.9, 5)]);
    expect(faces[1].box).toEqual({ x: expect.closeTo(10, 4), y: expect.closeTo(20, 4), width: expect.closeTo(20, 4), height: expect.closeTo(60, 4) });
    const a = { box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.7 };
    const b = { box: { x: 5, y: 0, width: 10, height: 10 }, score: 0.9 };
    expect(iou(a.box, b.box)).toBeCloseTo(1 / 3, 6);
    expect(nms([a, b], 0.3)).toEqual([b]);
    expect(nms([a, b], 0.4)).toEqual([b, a]);
  });
});

describe('alignment', () => {
  it('recovers a known similarity transform', () => {
    const angle = 0.3;
    const scale = 2.5;
    const [a, b] = [scale * Math.cos(angle), scale * Math.sin(angle)];
    const src = ARCFACE_TEMPLATE.map(([x, y]) => [(x - 40) / 1.7, (y + 15) / 1.7] as [number, number]);
    const dst = src.map(([x, y]) => [a * x - b * y + 7, b * x + a * y - 3] as [number, number]);
    const t = estimateSimilarity(src, dst);
    expect(t.a).toBeCloseTo(a, 9);
    expect(t.b).toBeCloseTo(b, 9);
    expect(t.tx).toBeCloseTo(7, 9);
    expect(t.ty).toBeCloseTo(-3, 9);
  });
});

describe('model crops', () => {
  it('takes the ×2.7 liveness context, shrunk to fit and shifted inside the image', () => {
    // 100 px box in a 1000×800 image: a 270 px square on the box centre.
    expect(livenessCrop({ x: 400, y: 300, width: 80, height: 100 }, 1000, 800)).toEqual({ x: 305, y: 215, width: 270, height: 270 });
    // Near the left edge the square is shifted right rather than cut.
    expect(livenessCrop({ x: 0, y: 300, width: 80, height: 100 }, 1000, 800)).toMatchObject({ x: 0, width: 270 });
    // A face filling a 480-px-high frame: scale limited to (H − 1)/h.
    expect(livenessCrop({ x: 100, y: 100, width: 200, height: 300 }, 640, 480)).toMatchObject({ y: 0, width: 479, height: 479 });
  });

  it('takes the landmark square of side sqrt(w·h), widened 5 % at the sides and 10 % at the bottom', () => {
    expect(landmarkCrop({ x: 100, y: 100, width: 100, height: 100 }, 1000, 1000)).toEqual({ x: 95, y: 100, width: 110, height: 110 });
    expect(landmarkCrop({ x: -20, y: 100, width: 100, height: 100 }, 1000, 1000)).toMatchObject({ x: 0, width: 85 });
  });
});
