import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { createFaceEngine } from './engine.js';
import { FaceError } from './errors.js';
import { accuracyAt, bestThreshold, kFoldAccuracy, rocAuc, tarAtFar, type TenFold } from './metrics.js';
import { cosine } from './similarity.js';
import { boxSize } from './subject.js';
import type { Analysis, FaceEngineOptions } from './types.js';

export interface Pair {
  a: string;
  b: string;
  same: boolean;
}

export interface EvalResult {
  pairs: number;
  genuine: number;
  impostor: number;
  /** Distinct images. */
  images: number;
  /**
   * What each side of a pair is embedded as, by model/recipe id: path_a is the probe (a sign-in frame's single
   * embedding, `fr_feature@…`), path_b the reference (an enrolment photo's mirror-averaged one, `fr_feature@…+flip`).
   */
  embeddings: { probe: string; reference: string };
  /** Images without a detected face (or undecodable); their pairs count as non-matches. */
  failedToDetect: number;
  failedImages: string[];
  /** Configured match threshold (cosine) and the fraction of pairs it decides correctly. */
  threshold: number;
  accuracy: number;
  bestThreshold: number;
  bestAccuracy: number;
  auc: number;
  /**
   * Held-out accuracy by LFW's 10-fold protocol (threshold chosen on nine folds, accuracy on the tenth; folds are
   * consecutive blocks of the genuine and of the impostor pairs in file order); null with fewer than 10 of either.
   */
  tenFold: TenFold | null;
  /** True-accept rate keyed by FAR ("1e-2", "1e-3", "1e-4"), only where impostors ≥ 1/FAR. */
  tar: Record<string, number>;
  /** The cosine threshold that reaches each FAR on these impostors. */
  tarThresholds: Record<string, number>;
  /**
   * Images whose analysed face (the subject) is not the largest detection: a face tied with the largest in size
   * and nearer the image centre was taken. Every one of them is worth a look.
   */
  subjectNotLargest: number;
  subjectNotLargestImages: string[];
  /** Images enrolment would refuse (any quality issue, or no usable image), with the codes that refuse them. */
  failureToEnroll: { count: number; rate: number; byCode: Record<string, number>; images: { file: string; codes: string[] }[] };
  /** Where the per-pair scores were written (`--scores FILE`), if asked. */
  scoresFile?: string;
  seconds: number;
}

/** What the evaluation keeps of each image's analyses. */
interface ImageResult {
  /** The 'enroll' analysis's embedding (mirror-averaged), for an image in the reference position. */
  embedding: Float32Array | null;
  /** The 'verify' analysis's embedding (single), for an image in the probe position; undefined if it is never one. */
  probe?: Float32Array | null;
  /** Quality codes, or the FaceError code of an image that could not be analysed. */
  codes: string[];
  subjectIsLargest: boolean;
}

function imageResult(a: Analysis): ImageResult {
  const largest = Math.max(0, ...a.faces.map((f) => boxSize(f.box)));
  return { embedding: a.embedding, codes: a.quality.issues.map((i) => i.code), subjectIsLargest: !a.face || boxSize(a.face.box) === largest };
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

/** One line per pair in input order: the cosine, or −1 where an image has no usable face (as the metrics count it). */
async function writeScores(file: string, pairs: Pair[], scores: number[]): Promise<void> {
  const lines = pairs.map((p, i) => `${p.a}\t${p.b}\t${p.same ? 1 : 0}\t${scores[i].toFixed(6)}`);
  await writeFile(file, `# path_a (probe, single)\tpath_b (reference, mirror-averaged)\tsame\tcosine (-1: no usable face in an image)\n${lines.join('\n')}\n`);
}

/**
 * Verification accuracy of the engine on labelled pairs, compared as the product compares them: a pair's second image
 * is the reference (analysed as an enrolment photo, 'enroll': mirror-averaged, which also gives the failure-to-enroll
 * figures), its first the probe (analysed as a sign-in frame, 'verify': embedded once). An image in both positions
 * is analysed both ways.
 */
export async function runEval(pairsFile: string, opts: FaceEngineOptions & { progress?: boolean; scoresFile?: string }): Promise<EvalResult> {
  const started = performance.now();
  const pairs = await readPairs(pairsFile);
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const probes = new Set(pairs.map((p) => p.a));
  const engine = await createFaceEngine(opts);
  const bar =
    opts.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'eval [{bar}] {value}/{total} images' }, cliProgress.Presets.shades_classic)
      : null;
  const results = new Map<string, ImageResult>();
  try {
    bar?.start(images.length, 0);
    // Two tasks per worker keep every worker busy without approaching the queue limit.
    await mapLimit(images, engine.stats().poolSize * 2, async (file) => {
      const bytes = await readFile(file);
      try {
        const result = imageResult(await engine.analyze(bytes, 'enroll'));
        if (probes.has(file)) result.probe = (await engine.analyze(bytes, 'verify')).embedding;
        results.set(file, result);
      } catch (err) {
        if (!(err instanceof FaceError) || (err.code !== 'UNSUPPORTED_IMAGE' && err.code !== 'IMAGE_TOO_LARGE')) throw err;
        results.set(file, { embedding: null, probe: null, codes: [err.code], subjectIsLargest: true });
      }
      bar?.increment();
    });
  } finally {
    bar?.stop();
    await engine.close();
  }

  const genuine: number[] = [];
  const impostor: number[] = [];
  const scores = pairs.map((p) => {
    const ea = results.get(p.a)!.probe!;
    const eb = results.get(p.b)!.embedding;
    const score = ea && eb ? cosine(ea, eb) : -1;
    (p.same ? genuine : impostor).push(score);
    return score;
  });
  if (opts.scoresFile) await writeScores(opts.scoresFile, pairs, scores);
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
  const failedImages = images.filter((f) => results.get(f)!.embedding === null);
  const refused = images.filter((f) => results.get(f)!.codes.length > 0).map((file) => ({ file, codes: results.get(file)!.codes }));
  const byCode: Record<string, number> = {};
  for (const { codes } of refused) for (const code of codes) byCode[code] = (byCode[code] ?? 0) + 1;
  const notLargest = images.filter((f) => !results.get(f)!.subjectIsLargest);
  return {
    pairs: pairs.length,
    genuine: genuine.length,
    impostor: impostor.length,
    images: images.length,
    embeddings: { probe: engine.modelId, reference: engine.recipeId },
    failedToDetect: failedImages.length,
    failedImages,
    threshold,
    accuracy: accuracyAt(genuine, impostor, threshold),
    bestThreshold: best.threshold,
    bestAccuracy: best.accuracy,
    auc: rocAuc(genuine, impostor),
    tenFold: kFoldAccuracy(genuine, impostor),
    tar,
    tarThresholds,
    subjectNotLargest: notLargest.length,
    subjectNotLargestImages: notLargest,
    failureToEnroll: { count: refused.length, rate: refused.length / images.length, byCode, images: refused },
    ...(opts.scoresFile ? { scoresFile: opts.scoresFile } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
