import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelRole } from './manifest.js';
import { flushTinyWeights } from './weights.js';

export type Sessions = Record<ModelRole, ort.InferenceSession>;

/**
 * One session per model, single-threaded: the pool gives parallelism across requests, and intra-op threads
 * that spin while idle slowed the pipeline 2.2× on two cores. Measured per model on this 2-vCPU machine (table in
 * src/face/README.md): full graph optimisation ('all', with its NCHWc layouts) is the fastest level for every
 * model once the tiny weights are zeroed (detect 2.2 ms against 5.6–5.9, feature 7.8 against 10.6); parallel
 * execution, the memory arena and memory patterns, and spinning made no difference to a single-threaded session
 * (±2 %), except that detect without the arena took 3.9 ms; they keep their defaults, spinning stays off.
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** Loads one session per model from its (checksum-verified) file, with the tiny weights zeroed (see weights.ts). */
export async function loadSessions(files: Record<ModelRole, string>): Promise<Sessions> {
  const entries = await Promise.all(
    (Object.keys(files) as ModelRole[]).map(async (role) => {
      const bytes = await readFile(files[role]);
      flushTinyWeights(bytes);
      return [role, await ort.InferenceSession.create(bytes, SESSION_OPTIONS)] as const;
    }),
  );
  return Object.fromEntries(entries) as Sessions;
}
