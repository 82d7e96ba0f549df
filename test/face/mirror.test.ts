// The engine embeds a reference face together with its mirror image, a probe once (src/face/recipe.ts). These tests
// recompute both single embeddings through fr_feature on the main thread and hold the engine's results to them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveQuality } from '../../src/face/config.js';
import { ALIGNED_SIZE } from '../../src/face/align.js';
import { embedFace, mirrorFace } from '../../src/face/embed.js';
import { createFaceEngine, cosine, verifyModels, type FaceEngine } from '../../src/face/index.js';
import { loadSessions, type Sessions } from '../../src/face/models.js';
import { prepare } from '../../src/face/pipeline.js';
import { fixture, MODELS_DIR } from './helpers.js';

let sessions: Sessions;
let engines: FaceEngine[];
let modelId: string;

beforeAll(async () => {
  const info = await verifyModels(MODELS_DIR);
  modelId = info.modelId;
  sessions = await loadSessions(info.files);
  // One worker analyses whole; two share a lone analysis, a reference's mirror embedding running on the second worker.
  engines = await Promise.all([1, 2].map((poolSize) => createFaceEngine({ modelsDir: MODELS_DIR, poolSize })));
});
afterAll(async () => {
  await Promise.all(engines?.map((e) => e.close()) ?? []);
  await Promise.all(Object.values(sessions ?? {}).map((s) => s.release()));
});

/** Left ↔ right, written out here rather than taken from the code under test. */
function flipped(face: Float32Array): Float32Array {
  const out = new Float32Array(face.length);
  for (let y = 0; y < ALIGNED_SIZE; y++) {
    for (let x = 0; x < ALIGNED_SIZE; x++) {
      for (let c = 0; c < 3; c++) out[(y * ALIGNED_SIZE + x) * 3 + c] = face[(y * ALIGNED_SIZE + (ALIGNED_SIZE - 1 - x)) * 3 + c];
    }
  }
  return out;
}

/** (a + b) / |a + b|, in float64. */
function normalisedMean(a: Float32Array, b: Float32Array): number[] {
  const sum = Array.from(a, (v, i) => v + b[i]);
  const norm = Math.hypot(...sum);
  return sum.map((v) => v / norm);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** The aligned 112×112 face the pipeline embeds for `purpose`. */
async function alignedFace(bytes: Uint8Array): Promise<Float32Array> {
  const cfg = { limits: { maxBytes: 15e6, maxPixels: 40e6 }, quality: resolveQuality(undefined), modelId };
  const r = await prepare(sessions, bytes, 'enroll', cfg);
  if (!('prepared' in r) || !r.prepared.inputs.feature) throw new Error('no aligned face');
  return r.prepared.inputs.feature;
}

describe('mirror averaging', () => {
  it('mirrors the aligned face left to right, and an asymmetric face embeds differently from its mirror', async () => {
    // A synthetic face-sized picture, bright on the left with a dark block on the right: nothing like its mirror.
    const face = new Float32Array(ALIGNED_SIZE * ALIGNED_SIZE * 3);
    for (let y = 0; y < ALIGNED_SIZE; y++) {
      for (let x = 0; x < ALIGNED_SIZE; x++) {
        const p = (y * ALIGNED_SIZE + x) * 3;
        const block = x > 70 && y > 30 && y < 80;
        face[p] = block ? 20 : 255 - 2 * x;
        face[p + 1] = block ? 30 : 128 + y / 2;
        face[p + 2] = block ? 200 : x;
      }
    }
    const mirror = mirrorFace(face);
    expect(Array.from(mirror)).toEqual(Array.from(flipped(face)));
    expect(Array.from(mirrorFace(mirror))).toEqual(Array.from(face));
    const [own, mirrored] = [await embedFace(sessions.feature, face), await embedFace(sessions.feature, mirror)];
    expect(cosine(own, mirrored)).toBeLessThan(0.95);
  });

  it('stores the normalised mean of a reference’s embedding and its mirror’s, embeds a probe once, on one worker and shared by two', async () => {
    for (const name of ['deepface-img1.jpg', 'deepface-img17.jpg']) {
      const aligned = await alignedFace(new Uint8Array(fixture(name)));
      const single = await embedFace(sessions.feature, aligned);
      const ofMirror = await embedFace(sessions.feature, flipped(aligned));
      // A real face is nearly symmetric, but not to the model.
      expect(cosine(single, ofMirror), name).toBeGreaterThan(0.8);
      expect(cosine(single, ofMirror), name).toBeLessThan(0.9999);
      const expected = normalisedMean(single, ofMirror);
      const analyses = (purpose: 'enroll' | 'match' | 'verify') => Promise.all(engines.map((e) => e.analyze(fixture(name), purpose)));
      // References: an enrolment photo, a document portrait.
      for (const purpose of ['enroll', 'match'] as const) {
        const results = await analyses(purpose);
        for (const r of results) {
          expect(r.modelId, purpose).toBe(`${modelId}+flip`);
          // float32 rounding of the sum and the division only.
          expect(maxAbsDiff(r.embedding!, expected), `${name} ${purpose}`).toBeLessThan(1e-6);
          // Far from either single embedding: the mean is really taken.
          expect(maxAbsDiff(r.embedding!, single), `${name} ${purpose}`).toBeGreaterThan(1e-3);
          expect(maxAbsDiff(r.embedding!, ofMirror), `${name} ${purpose}`).toBeGreaterThan(1e-3);
        }
        // The same vector whichever path computed it, bit for bit.
        expect(Array.from(results[1].embedding!), purpose).toEqual(Array.from(results[0].embedding!));
      }
      // A probe (a sign-in frame, the API's selfie): the aligned face's own embedding, under the bare model id.
      const probes = await analyses('verify');
      for (const r of probes) {
        expect(r.modelId).toBe(modelId);
        expect(maxAbsDiff(r.embedding!, single), name).toBeLessThan(1e-6);
        expect(maxAbsDiff(r.embedding!, expected), name).toBeGreaterThan(1e-3);
      }
      expect(Array.from(probes[1].embedding!)).toEqual(Array.from(probes[0].embedding!));
    }
  });
});
