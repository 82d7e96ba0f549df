import { FaceError } from './errors.js';
import type { CompareResult } from './types.js';

/**
 * Cosine decision thresholds of fr_feature at a target false-accept rate, measured on all 29.6 M LFW impostor
 * pairs (shared/DESIGN.md §4). Sign-in belongs at FAR 1e-4 or lower: studio photos of lookalikes reach 0.47.
 */
export const MATCH_PRESETS = { 'far-1e-3': 0.335, 'far-1e-4': 0.411, 'far-1e-5': 0.477 } as const;
export type MatchPreset = keyof typeof MATCH_PRESETS;
export const DEFAULT_MATCH_THRESHOLD = MATCH_PRESETS['far-1e-4'];

/**
 * Knots of the user-facing 0–100 similarity score, a piecewise-linear, strictly increasing map of cosine:
 * cosine ≤ 0 → 0, FAR 1e-3 (0.335) → 60, FAR 1e-4 (0.411, the default threshold) → 70, FAR 1e-5 (0.477) → 80,
 * cosine 1 → 100. Each ten points above 60 is a tenfold lower false-accept rate, and "70 or more" is the
 * default match. Scores are rounded to one decimal.
 */
export const SCORE_KNOTS: readonly (readonly [cosine: number, score: number])[] = [
  [0, 0],
  [MATCH_PRESETS['far-1e-3'], 60],
  [MATCH_PRESETS['far-1e-4'], 70],
  [MATCH_PRESETS['far-1e-5'], 80],
  [1, 100],
];

function interpolate(x: number, from: 0 | 1, to: 0 | 1): number {
  const k = SCORE_KNOTS;
  if (x <= k[0][from]) return k[0][to];
  for (let i = 1; i < k.length; i++) {
    if (x <= k[i][from]) {
      const t = (x - k[i - 1][from]) / (k[i][from] - k[i - 1][from]);
      return k[i - 1][to] + t * (k[i][to] - k[i - 1][to]);
    }
  }
  return k[k.length - 1][to];
}

/** Documented 0–100 score of a cosine similarity (see SCORE_KNOTS). */
export function similarityToScore(cosine: number): number {
  return Math.round(interpolate(cosine, 0, 1) * 10) / 10;
}

/** Inverse of similarityToScore, e.g. to turn an admin's "minimum score 75" into a cosine threshold. */
export function scoreToSimilarity(score: number): number {
  return interpolate(score, 1, 0);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Best cosine of `embedding` against `templates`; a template of another length comes from another model. */
export function compareEmbeddings(embedding: Float32Array, templates: Float32Array[], threshold: number): CompareResult {
  let best = -1;
  let index = -1;
  templates.forEach((t, i) => {
    if (t.length !== embedding.length) {
      throw new FaceError('MODEL_INVALID', `Template ${i} has ${t.length} values, the embedding has ${embedding.length}: it was made by another model`);
    }
    const s = cosine(embedding, t);
    if (s > best) {
      best = s;
      index = i;
    }
  });
  return { similarity: best, score: similarityToScore(best), index, match: index >= 0 && best >= threshold };
}

/** Little-endian float32 bytes (2 048 for a 512-d embedding), the storage form of a template. */
export function embeddingToBytes(e: Float32Array): Buffer {
  const out = Buffer.alloc(e.length * 4);
  for (let i = 0; i < e.length; i++) out.writeFloatLE(e[i], i * 4);
  return out;
}

export function embeddingFromBytes(b: Uint8Array): Float32Array {
  if (b.length === 0 || b.length % 4 !== 0) throw new RangeError(`An embedding needs a positive multiple of 4 bytes, got ${b.length}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
