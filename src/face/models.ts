import * as ort from 'onnxruntime-node';
import type { ModelRole } from './manifest.js';

export type Sessions = Record<ModelRole, ort.InferenceSession>;

/**
 * One session per model, single-threaded: the pool gives parallelism across requests, and intra-op threads
 * that spin while idle slowed the pipeline 2.2× on two cores (shared/DESIGN.md §3).
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

export async function loadSessions(files: Record<ModelRole, string>): Promise<Sessions> {
  const entries = await Promise.all(
    (Object.keys(files) as ModelRole[]).map(async (role) => [role, await ort.InferenceSession.create(files[role], SESSION_OPTIONS)] as const),
  );
  return Object.fromEntries(entries) as Sessions;
}
