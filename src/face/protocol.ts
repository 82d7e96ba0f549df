// Messages between the pool (main thread) and worker.ts; kept apart so importing them never loads models.
import type { ModelRole } from './manifest.js';
import type { PipelineConfig } from './pipeline.js';
import type { Purpose } from './types.js';

export interface WorkerInit {
  files: Record<ModelRole, string>;
  config: PipelineConfig;
}

export interface WorkerTask {
  image: Uint8Array;
  purpose: Purpose;
}

/** Posted on parentPort once a thread's sessions are loaded; the pool counts these for readiness. */
export const READY_MESSAGE_KEY = 'faceWorkerReady';
