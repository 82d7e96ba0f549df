// Messages between the pool (main thread) and worker.ts; kept apart so importing them never loads models.
import type { ModelRole } from './manifest.js';
import type { MessagePort } from 'node:worker_threads';
import type { ModelOutputs, PipelineConfig, PipelineResult, Prepared } from './assemble.js';
import type { DetectedFace, Purpose } from './types.js';

export interface WorkerInit {
  files: Record<ModelRole, string>;
  config: PipelineConfig;
}

export interface WorkerTask {
  image: Uint8Array;
  purpose: Purpose;
  /** The detector's faces from an earlier analysis of the same image (AnalyzeOptions.detections). */
  detections?: DetectedFace[];
}

/** An analysis that hands its box-only model inputs and a reference's mirrored face (one ModelInputs a message) to the pool through `port`. */
export interface SharedTask extends WorkerTask {
  port: MessagePort;
}

/** Complete, or prepared with the outputs of the models the worker ran itself, and how many inputs it handed off. */
export type SharedResult = { done: PipelineResult } | { prepared: Prepared; own: ModelOutputs; handedOff: number };

/** Posted on parentPort once a thread's sessions are loaded; the pool counts these for readiness. */
export const READY_MESSAGE_KEY = 'faceWorkerReady';
