// Piscina worker: one ONNX session set per thread, loaded before the worker reports ready.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { tensorBuffers, type ModelInputs, type ModelOutputs } from './assemble.js';
import { FaceError, type SerializedFaceError } from './errors.js';
import { loadSessions } from './models.js';
import { analyzeImage, infer as inferModels, prepare as prepareImage, type PipelineResult } from './pipeline.js';
import { READY_MESSAGE_KEY, type SharedResult, type SharedTask, type WorkerInit, type WorkerTask } from './protocol.js';

const init = workerData as WorkerInit;
// Loading starts with the thread; a load failure is an unhandled rejection that ends the thread, which the pool reports.
const sessions = loadSessions(init.files).then((s) => {
  parentPort?.postMessage({ [READY_MESSAGE_KEY]: threadId });
  return s;
});

/** FaceErrors travel as data: structured cloning would strip an Error's code. */
async function serialized<T>(work: () => Promise<T>): Promise<T | SerializedFaceError> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FaceError) return { faceError: { code: err.code, message: err.message } };
    throw err;
  }
}

/** The whole analysis. */
export default async function run(task: WorkerTask): Promise<PipelineResult | SerializedFaceError> {
  return serialized(async () => analyzeImage(await sessions, task.image, task.purpose, init.config, task.detections));
}

/**
 * The analysis with its box-only model inputs (liveness, pose) and, for a reference, the mirrored aligned face handed
 * over through `task.port` one by one as soon as each is made; the pool runs them on another worker while this one
 * goes on with the landmarks, the alignment and the face's own embedding.
 */
export async function share(task: SharedTask): Promise<SharedResult | SerializedFaceError> {
  return serialized(async () => {
    let handedOff = 0;
    const handOff = (inputs: ModelInputs) => {
      task.port.postMessage(inputs, tensorBuffers(inputs));
      handedOff++;
    };
    const first = await prepareImage(await sessions, task.image, task.purpose, init.config, handOff, task.detections);
    if ('done' in first) return first;
    const own = await inferModels(await sessions, first.prepared.inputs);
    return { prepared: { ...first.prepared, inputs: {} }, own, handedOff };
  });
}

export async function infer(inputs: ModelInputs): Promise<ModelOutputs> {
  return inferModels(await sessions, inputs);
}
