import os from 'node:os';
import {
  DEFAULT_LIVENESS_THRESHOLD,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_PIXELS,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_TASK_TIMEOUT_MS,
  resolveQuality,
} from './config.js';
import { FaceError } from './errors.js';
import { ACCEPTED_IMAGES, sniffImageFormat } from './format.js';
import { verifyModels } from './manifest.js';
import { FacePool } from './pool.js';
import { recipeId } from './recipe.js';
import { compareEmbeddings, DEFAULT_MATCH_THRESHOLD } from './similarity.js';
import type { Analysis, FaceEngine, FaceEngineOptions, Purpose, Thresholds } from './types.js';

const PURPOSES: readonly Purpose[] = ['verify', 'enroll', 'match', 'turn', 'locate'];

function checkUnit(name: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min || v > 1) throw new RangeError(`${name} must be a number in [${min}, 1], got ${v}`);
  return v;
}

/** Verifies the model checksums, starts the worker pool and resolves once every worker has loaded its models. */
export async function createFaceEngine(opts: FaceEngineOptions): Promise<FaceEngine> {
  const info = await verifyModels(opts.modelsDir);
  const poolSize = Math.max(1, Math.floor(opts.poolSize ?? os.availableParallelism()));
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const thresholds: Thresholds = {
    matchThreshold: checkUnit('matchThreshold', opts.matchThreshold ?? DEFAULT_MATCH_THRESHOLD, -1),
    livenessThreshold: checkUnit('livenessThreshold', opts.livenessThreshold ?? DEFAULT_LIVENESS_THRESHOLD, 0),
  };
  const pool = await FacePool.start({
    size: poolSize,
    maxQueue: Math.max(0, Math.floor(opts.maxQueue ?? 4 * poolSize)),
    maxWaitMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    taskTimeoutMs: opts.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
    init: {
      files: info.files,
      config: { limits: { maxBytes, maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS }, quality: resolveQuality(opts.quality), modelId: info.modelId },
    },
  });

  return {
    modelId: info.modelId,
    recipeId: recipeId(info.modelId),
    get ready() {
      return pool.ready;
    },
    get thresholds() {
      return { ...thresholds };
    },
    setThresholds(t) {
      if (t.matchThreshold !== undefined) thresholds.matchThreshold = checkUnit('matchThreshold', t.matchThreshold, -1);
      if (t.livenessThreshold !== undefined) thresholds.livenessThreshold = checkUnit('livenessThreshold', t.livenessThreshold, 0);
    },
    async analyze(image, purpose, { lane = 'trusted', shareIdle = true, admission, detections } = {}): Promise<Analysis> {
      if (!PURPOSES.includes(purpose)) throw new TypeError(`Unknown purpose '${String(purpose)}'`);
      if (!(image instanceof Uint8Array) || image.length === 0) throw new FaceError('UNSUPPORTED_IMAGE', 'The image is empty');
      if (image.length > maxBytes) throw new FaceError('IMAGE_TOO_LARGE', `The image is larger than ${maxBytes} bytes`);
      if (!sniffImageFormat(image)) throw new FaceError('UNSUPPORTED_IMAGE', `The image is not a ${ACCEPTED_IMAGES} file`);
      const start = performance.now();
      // A private copy whose buffer can be transferred (a Node Buffer may share a pooled ArrayBuffer).
      const { livenessScore, ...rest } = await pool.run(new Uint8Array(image), purpose, { lane, shareIdle, admission, detections });
      rest.timings.wall = performance.now() - start;
      return {
        ...rest,
        liveness: livenessScore === null ? null : { score: livenessScore, live: livenessScore >= thresholds.livenessThreshold },
      };
    },
    admit: (purposes, opts) => pool.admit(purposes, opts),
    compare(embedding, templates) {
      return compareEmbeddings(embedding, templates, thresholds.matchThreshold);
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}
