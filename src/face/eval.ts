import { readFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { createFaceEngine } from './engine.js';
import { FaceError } from './errors.js';
import { accuracyAt, bestThreshold, rocAuc, tarAtFar } from './metrics.js';
import { cosine } from './similarity.js';
import type { FaceEngineOptions } from './types.js';

export interface Pair {
  a: string;
  b: string;
  same: boolean;
}

export interface EvalResult {
  pairs: number;
  genuine: number;
  impostor: number;
  /** Distinct images, each analysed once. */
  images: number;
  /** Images without a detected face (or undecodable); their pairs count as non-matches. */
  failedToDetect: number;
  failedImages: string[];
  /** Configured match threshold (cosine) and the fraction of pairs it decides correctly. */
  threshold: number;
  accuracy: number;
  bestThreshold: number;
  bestAccuracy: number;
  auc: number;
  /** True-accept rate keyed by FAR ("1e-2", "1e-3", "1e-4"), only where impostors ≥ 1/FAR. */
  tar: Record<string, number>;
  /** The cosine threshold that reaches each FAR on these impostors. */
  tarThresholds: Record<string, number>;
  seconds: number;
}

const FARS: [string, number][] = [
  ['1e-2', 1e-2],
  ['1e-3', 1e-3],
  ['1e-4', 1e-4],
];

/** `path_a<TAB>path_b<TAB>1|0` lines; blank lines and lines starting with # are skipped; paths are relative to the file. */
export async function readPairs(pairsFile: string): Promise<Pair[]> {
  const dir = path.dirname(path.resolve(pairsFile));
  const text = await readFile(pairsFile, 'utf8');
  const pairs: Pair[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const cols = line.split('\t');
    if (cols.length !== 3 || !/^[01]$/.test(cols[2].trim()) || !cols[0] || !cols[1]) {
      throw new Error(`${pairsFile}:${i + 1}: expected path_a<TAB>path_b<TAB>1|0`);
    }
    pairs.push({ a: path.resolve(dir, cols[0]), b: path.resolve(dir, cols[1]), same: cols[2].trim() === '1' });
  });
  if (pairs.length === 0) throw new Error(`${pairsFile} has no pairs`);
  return pairs;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Verification accuracy of the engine on labelled pairs; every distinct image is analysed once. */
export async function runEval(pairsFile: string, opts: FaceEngineOptions & { progress?: boolean }): Promise<EvalResult> {
  const started = performance.now();
  const pairs = await readPairs(pairsFile);
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const engine = await createFaceEngine(opts);
  const bar =
    opts.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'eval [{bar}] {value}/{total} images' }, cliProgress.Presets.shades_classic)
      : null;
  const embeddings = new Map<string, Float32Array | null>();
  try {
    bar?.start(images.length, 0);
    // Two tasks per worker keep every worker busy without approaching the queue limit.
    await mapLimit(images, engine.stats().poolSize * 2, async (file) => {
      const bytes = await readFile(file);
      try {
        // 'enroll' skips liveness, which the evaluation does not use.
        embeddings.set(file, (await engine.analyze(bytes, 'enroll')).embedding);
      } catch (err) {
        if (!(err instanceof FaceError) || (err.code !== 'UNSUPPORTED_IMAGE' && err.code !== 'IMAGE_TOO_LARGE')) throw err;
        embeddings.set(file, null);
      }
      bar?.increment();
    });
  } finally {
    bar?.stop();
    await engine.close();
  }

  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const p of pairs) {
    const ea = embeddings.get(p.a);
    const eb = embeddings.get(p.b);
    (p.same ? genuine : impostor).push(ea && eb ? cosine(ea, eb) : -1);
  }
  const threshold = engine.thresholds.matchThreshold;
  const best = bestThreshold(genuine, impostor);
  const tar: Record<string, number> = {};
  const tarThresholds: Record<string, number> = {};
  for (const [key, far] of FARS) {
    if (genuine.length === 0 || impostor.length < 1 / far) continue;
    const r = tarAtFar(genuine, impostor, far);
    tar[key] = r.tar;
    tarThresholds[key] = r.threshold;
  }
  const failedImages = images.filter((f) => embeddings.get(f) === null);
  return {
    pairs: pairs.length,
    genuine: genuine.length,
    impostor: impostor.length,
    images: images.length,
    failedToDetect: failedImages.length,
    failedImages,
    threshold,
    accuracy: accuracyAt(genuine, impostor, threshold),
    bestThreshold: best.threshold,
    bestAccuracy: best.accuracy,
    auc: rocAuc(genuine, impostor),
    tar,
    tarThresholds,
    seconds: (performance.now() - started) / 1000,
  };
}
