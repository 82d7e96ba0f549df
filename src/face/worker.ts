// Piscina worker: one ONNX session set per thread, loaded before the worker reports ready.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { FaceError, type SerializedFaceError } from './errors.js';
import { loadSessions } from './models.js';
import { analyzeImage, type PipelineResult } from './pipeline.js';
import { READY_MESSAGE_KEY, type WorkerInit, type WorkerTask } from './protocol.js';

const init = workerData as WorkerInit;
// Loading starts with the thread; a load failure is an unhandled rejection that ends the thread, which the pool reports.
const sessions = loadSessions(init.files).then((s) => {
  parentPort?.postMessage({ [READY_MESSAGE_KEY]: threadId });
  return s;
});

/** FaceErrors travel as data: structured cloning would strip an Error's code. */
export default async function run(task: WorkerTask): Promise<PipelineResult | SerializedFaceError> {
  try {
    return await analyzeImage(await sessions, task.image, task.purpose, init.config);
  } catch (err) {
    if (err instanceof FaceError) return { faceError: { code: err.code, message: err.message } };
    throw err;
  }
}
