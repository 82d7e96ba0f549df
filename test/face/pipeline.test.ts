import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFaceEngine,
  DEFAULT_QUALITY,
  embeddingFromBytes,
  embeddingToBytes,
  MATCH_PRESETS,
  type Analysis,
  type FaceEngine,
  type Purpose,
  type QualityCode,
} from '../../src/face/index.js';
import { fixture, MODELS_DIR } from './helpers.js';

let engine: FaceEngine;
const cache = new Map<string, Analysis>();
async function analyzeFixture(name: string, purpose: Purpose = 'verify'): Promise<Analysis> {
  const key = `${name}/${purpose}`;
  if (!cache.has(key)) cache.set(key, await engine.analyze(fixture(name), purpose));
  return cache.get(key)!;
}
const codes = (a: Analysis): QualityCode[] => a.quality.issues.map((i) => i.code);

beforeAll(async () => {
  engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1 });
});
afterAll(async () => {
  await engine?.close();
});

describe('face pipeline on committed fixtures', () => {
  it('is ready with the manifest model id', () => {
    expect(engine.ready).toBe(true);
    expect(engine.modelId).toBe('fr_feature@87aacdfe5751');
    expect(engine.thresholds).toEqual({ matchThreshold: MATCH_PRESETS['far-1e-4'], livenessThreshold: 0.7 });
  });

  it('finds every face of a group photo', async () => {
    const group = await analyzeFixture('facenet-multiface.jpg');
    expect(group.faces).toHaveLength(6);
    for (const f of group.faces) expect(f.score).toBeGreaterThanOrEqual(0.6);
    const couple = await analyzeFixture('deepface-couple.jpg');
    expect(couple.faces).toHaveLength(2);
    expect(codes(couple)).toContain('MULTIPLE_FACES');
    // Every purpose analyses the largest face; only 'match' (a document) does not object to the second one.
    const match = await analyzeFixture('deepface-couple.jpg', 'match');
    expect(codes(match)).not.toContain('MULTIPLE_FACES');
    const largest = Math.max(...couple.faces.map((f) => f.box.width * f.box.height));
    expect(match.face!.box.width * match.face!.box.height).toBe(largest);
  });

  it('places the five landmarks where they were recorded', async () => {
    const a = await analyzeFixture('deepface-img2.jpg');
    const recorded = [
      [281.44, 164.8],
      [356.98, 163.52],
      [317.05, 207.23],
      [293.1, 239.7],
      [351.54, 238.12],
    ];
    expect(a.face!.landmarks5).toHaveLength(5);
    a.face!.landmarks5.forEach(([x, y], i) => {
      expect(Math.abs(x - recorded[i][0])).toBeLessThan(2);
      expect(Math.abs(y - recorded[i][1])).toBeLessThan(2);
    });
    expect(a.quality).toMatchObject({ ok: true, issues: [] });
    expect(a.embedding).toHaveLength(512);
    const norm = Math.hypot(...a.embedding!);
    expect(norm).toBeCloseTo(1, 5);
  });

  it('scores the same person above and different people below the match threshold', async () => {
    const [a, b, c] = await Promise.all(['deepface-img1.jpg', 'deepface-img2.jpg', 'deepface-img17.jpg'].map((f) => analyzeFixture(f)));
    const same = engine.compare(a.embedding!, [b.embedding!]);
    expect(same.similarity).toBeGreaterThan(MATCH_PRESETS['far-1e-4'] + 0.15);
    expect(same).toMatchObject({ index: 0, match: true });
    expect(same.score).toBeGreaterThan(70);
    const other = engine.compare(a.embedding!, [c.embedding!]);
    expect(other.similarity).toBeLessThan(MATCH_PRESETS['far-1e-4'] - 0.2);
    expect(other).toMatchObject({ match: false });
    const best = engine.compare(a.embedding!, [c.embedding!, b.embedding!]);
    expect(best).toMatchObject({ index: 1, match: true });
  });

  it('applies EXIF orientation to a phone selfie', async () => {
    const a = await analyzeFixture('silent-face-T1.jpg');
    // Stored 640×480 with orientation 6: upright it is portrait.
    expect([a.width, a.height]).toEqual([480, 640]);
    expect(a.faces).toHaveLength(1);
    const [leftEye, rightEye, , mouthLeft] = a.face!.landmarks5;
    expect(leftEye[1]).toBeLessThan(mouthLeft[1]);
    expect(leftEye[0]).toBeLessThan(rightEye[0]);
    expect(Math.abs(a.face!.pose!.roll)).toBeLessThan(25);
    expect(a.quality.ok).toBe(true);
    // Without the orientation the face lies on its side and is not usable.
    const sideways = await engine.analyze(await sharp(fixture('silent-face-T1.jpg')).jpeg().toBuffer(), 'verify');
    expect([sideways.width, sideways.height]).toEqual([640, 480]);
    expect(codes(sideways).some((c) => c === 'FACE_NOT_FOUND' || c === 'FACE_ANGLE')).toBe(true);
  });

  it('scores print and replay attacks below the liveness threshold', async () => {
    const live = await analyzeFixture('silent-face-T1.jpg');
    for (const name of ['silent-face-F1.jpg', 'silent-face-F2.jpg']) {
      const spoof = await analyzeFixture(name);
      expect(spoof.liveness!.score).toBeLessThan(engine.thresholds.livenessThreshold);
      expect(spoof.liveness!.live).toBe(false);
      expect(spoof.liveness!.score).toBeLessThan(live.liveness!.score);
    }
    expect((await analyzeFixture('deepface-img2.jpg')).liveness!.live).toBe(true);
  });

  it("analyses a challenge frame that turned ('turn') with pose and embedding, without liveness or the eye model", async () => {
    const full = await analyzeFixture('deepface-img2.jpg');
    const turn = await analyzeFixture('deepface-img2.jpg', 'turn');
    expect(turn.liveness).toBeNull();
    expect(turn.timings.liveness).toBeUndefined();
    expect(turn.face!.eyesOpen).toBeUndefined();
    expect(turn.quality.metrics.eyesOpen).toBeUndefined();
    expect(turn.quality).toMatchObject({ ok: true, issues: [] });
    // Same face, same geometry and the same probe embedding as a full analysis.
    expect(turn.face!.landmarks68).toHaveLength(68);
    expect(turn.face!.landmarks68).toEqual(full.face!.landmarks68);
    expect(turn.face!.landmarks5).toEqual(full.face!.landmarks5);
    expect(turn.face!.pose).toEqual(full.face!.pose);
    expect(turn.embedding).toEqual(full.embedding);
    expect(turn.modelId).toBe(full.modelId);
  });

  it("analyses a frame again from an earlier analysis's detections without running the detector, to the same result", async () => {
    const located = await analyzeFixture('deepface-couple.jpg', 'locate');
    const full = await analyzeFixture('deepface-couple.jpg', 'verify');
    const again = await engine.analyze(fixture('deepface-couple.jpg'), 'verify', { detections: located.faces });
    const { timings, ...result } = again;
    const { timings: fullTimings, ...expected } = full;
    expect(result).toEqual(expected);
    expect(timings.detect).toBeUndefined();
    expect(fullTimings.detect).toBeGreaterThan(0);
  });

  it('locates a face with detection and landmarks only: no pose, and the framing checks of the quality', async () => {
    const track = await analyzeFixture('deepface-img2.jpg', 'turn');
    const located = await analyzeFixture('deepface-img2.jpg', 'locate');
    expect(located).toMatchObject({ embedding: null, liveness: null, faces: track.faces });
    expect(located.face!.pose).toBeNull();
    expect(located.face!.landmarks68).toEqual(track.face!.landmarks68);
    expect(located.face!.landmarks5).toEqual(track.face!.landmarks5);
    expect(located.quality).toMatchObject({ ok: true, issues: [] });
    expect(located.quality.metrics).toMatchObject({ faces: 1, otherFaces: 0, faceSize: track.quality.metrics.faceSize, edgeMargin: track.quality.metrics.edgeMargin });
    expect(located.quality.metrics.yaw).toBeUndefined();
    for (const stage of ['align', 'embed', 'liveness', 'quality']) expect(located.timings[stage]).toBeUndefined();
    // Framing still speaks: a face cut by the border is said so without the pose model.
    const cut = await sharp(fixture('deepface-img2.jpg')).extract({ left: 0, top: 0, width: Math.round(track.face!.box.x + track.face!.box.width * 0.6), height: track.height }).jpeg().toBuffer();
    expect(codes(await engine.analyze(cut, 'locate'))).toContain('FACE_CLOSE_TO_BORDER');
  });

  it('reports the 68 landmarks in image pixels around the five points', async () => {
    for (const purpose of ['verify', 'enroll', 'match', 'turn', 'locate'] as const) {
      const { face } = await analyzeFixture('deepface-img2.jpg', purpose);
      const [x0, y0] = [face!.box.x, face!.box.y];
      const [x1, y1] = [x0 + face!.box.width, y0 + face!.box.height];
      // Jaw line (0–16) spans the face box width; nose tip (30) is the five points' third.
      expect(face!.landmarks68[0][0]).toBeLessThan(face!.landmarks5[0][0]);
      expect(face!.landmarks68[16][0]).toBeGreaterThan(face!.landmarks5[1][0]);
      expect(face!.landmarks68[30]).toEqual(face!.landmarks5[2]);
      for (const [x, y] of face!.landmarks68) {
        expect(x).toBeGreaterThan(x0 - 0.2 * face!.box.width);
        expect(x).toBeLessThan(x1 + 0.2 * face!.box.width);
        expect(y).toBeGreaterThan(y0 - 0.2 * face!.box.height);
        expect(y).toBeLessThan(y1 + 0.2 * face!.box.height);
      }
    }
  });

  it('computes liveness for verify only', async () => {
    expect((await analyzeFixture('deepface-img2.jpg', 'verify')).liveness).not.toBeNull();
    for (const purpose of ['enroll', 'match', 'turn', 'locate'] as const) {
      const a = await analyzeFixture('deepface-img2.jpg', purpose);
      expect(a.liveness).toBeNull();
      expect(a.timings.liveness).toBeUndefined();
    }
  });

  it('applies a new liveness threshold at run time', async () => {
    const before = engine.thresholds;
    try {
      engine.setThresholds({ livenessThreshold: 0.05 });
      const replay = await engine.analyze(fixture('silent-face-F2.jpg'), 'verify');
      expect(replay.liveness!.live).toBe(true);
      engine.setThresholds({ matchThreshold: 0.99 });
      const a = await analyzeFixture('deepface-img1.jpg');
      expect(engine.compare(a.embedding!, [(await analyzeFixture('deepface-img2.jpg')).embedding!]).match).toBe(false);
      expect(() => engine.setThresholds({ livenessThreshold: 2 })).toThrow(RangeError);
    } finally {
      engine.setThresholds(before);
    }
  });

  it('reports stage timings', async () => {
    const a = await analyzeFixture('deepface-img2.jpg');
    for (const stage of ['decode', 'detect', 'landmarks', 'align', 'embed', 'liveness', 'quality', 'total', 'wall']) {
      expect(a.timings[stage]).toBeGreaterThan(0);
    }
  });

  it('stores templates as 2 048 little-endian bytes', async () => {
    const e = (await analyzeFixture('deepface-img2.jpg')).embedding!;
    const bytes = embeddingToBytes(e);
    expect(bytes).toHaveLength(2048);
    expect(embeddingFromBytes(bytes)).toEqual(e);
    expect(() => embeddingFromBytes(new Uint8Array(7))).toThrow(RangeError);
    expect(() => engine.compare(e, [new Float32Array(128)])).toThrow(/another model/);
    expect(engine.compare(e, [])).toMatchObject({ index: -1, match: false, similarity: -1, score: 0 });
  });
});

describe('quality assessment', () => {
  const variant = async (name: string, edit: (s: Sharp) => Sharp, purpose: 'verify' | 'enroll' = 'verify') =>
    engine.analyze(await edit(sharp(fixture(name)).autoOrient()).jpeg({ quality: 90 }).toBuffer(), purpose);

  it('flags no issue on a good photo and reports its metrics', async () => {
    const a = await analyzeFixture('deepface-img2.jpg', 'enroll');
    expect(a.quality.ok).toBe(true);
    for (const m of ['faceSize', 'edgeMargin', 'yaw', 'pitch', 'roll', 'brightness', 'sharpness', 'eyesOpen']) {
      expect(Number.isFinite(a.quality.metrics[m])).toBe(true);
    }
  });

  it('flags a missing face', async () => {
    const a = await engine.analyze(await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7a8a9a' } }).png().toBuffer(), 'verify');
    expect(a).toMatchObject({ faces: [], face: null, embedding: null, liveness: null });
    expect(a.quality.issues).toEqual([{ code: 'FACE_NOT_FOUND', message: expect.any(String) }]);
  });

  it('flags small, cut-off, turned, dark, bright and blurred faces', async () => {
    expect(codes(await analyzeFixture('facenet-multiface.jpg', 'enroll'))).toEqual(expect.arrayContaining(['MULTIPLE_FACES', 'FACE_TOO_SMALL']));
    expect(codes(await variant('deepface-img2.jpg', (s) => s.resize(120)))).toContain('FACE_TOO_SMALL');
    expect(codes(await variant('deepface-img2.jpg', (s) => s.extract({ left: 300, top: 0, width: 340, height: 480 })))).toContain('FACE_CLOSE_TO_BORDER');
    expect(codes(await variant('deepface-img2.jpg', (s) => s.rotate(40, { background: '#808080' })))).toContain('FACE_ANGLE');
    expect(codes(await analyzeFixture('silent-face-F1.jpg'))).toEqual(['FACE_ANGLE']);
    expect(codes(await variant('deepface-img2.jpg', (s) => s.linear(0.25, 0)))).toContain('TOO_DARK');
    expect(codes(await variant('deepface-img2.jpg', (s) => s.linear(2.2, 20)))).toContain('TOO_BRIGHT');
    expect(codes(await variant('deepface-img2.jpg', (s) => s.blur(4)))).toContain('BLURRY');
  });

  it('holds enrolment to stricter limits than sign-in', async () => {
    const blurred = async (purpose: 'verify' | 'enroll') => codes(await variant('deepface-img2.jpg', (s) => s.blur(1.8), purpose));
    expect(DEFAULT_QUALITY.enroll.minSharpness).toBeGreaterThan(DEFAULT_QUALITY.minSharpness);
    expect(await blurred('verify')).not.toContain('BLURRY');
    expect(await blurred('enroll')).toContain('BLURRY');
  });
});
