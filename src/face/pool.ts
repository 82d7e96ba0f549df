import { MessageChannel, type TransferListItem, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { workerEntry } from '../ops/worker-entry.js';
import { FaceError, isSerializedFaceError, type SerializedFaceError } from './errors.js';
import { assemble, SHARED_PURPOSES, tensorBuffers, type ModelInputs, type ModelOutputs, type PipelineConfig, type PipelineResult } from './assemble.js';
import { READY_MESSAGE_KEY, type SharedResult, type SharedTask, type WorkerInit, type WorkerTask } from './protocol.js';
import { Scheduler, type Admission, type AdmitOptions } from './schedule.js';
import type { AnalyzeOptions, Purpose } from './types.js';

export interface PoolOptions {
  size: number;
  maxQueue: number;
  /**
   * A request expected to wait longer than this for workers is refused at once, and one that can no longer start
   * within it is refused instead of run (both OVERLOADED with Retry-After).
   */
  maxWaitMs: number;
  taskTimeoutMs: number;
  init: WorkerInit;
}

const RETRY_AFTER_S = 1;

/**
 * Worker-thread pool running the pipeline: admission and dispatch by expected wait (schedule.ts; at most
 * size + maxQueue admitted analyses), a per-task time limit (exceeded → the worker is replaced), and readiness that
 * counts workers whose models are loaded.
 */
export class FacePool {
  readonly size: number;
  readonly #scheduler: Scheduler;
  readonly #piscina: Piscina<WorkerTask | SharedTask | ModelInputs, unknown>;
  readonly #taskTimeoutMs: number;
  readonly #config: PipelineConfig;
  readonly #ready = new Set<number>();
  #closed = false;
  #lastError: Error | null = null;

  private constructor(opts: PoolOptions) {
    this.size = opts.size;
    this.#scheduler = new Scheduler({ size: opts.size, maxQueue: opts.maxQueue, maxWaitMs: opts.maxWaitMs });
    this.#taskTimeoutMs = opts.taskTimeoutMs;
    this.#config = opts.init.config;
    this.#piscina = new Piscina({
      ...workerEntry(import.meta.url, 'worker'),
      minThreads: opts.size,
      maxThreads: opts.size,
      idleTimeout: Infinity,
      // Synchronous Atomics.wait would block an idle worker's event loop, and with it the model loading that
      // finishes in the background and reports readiness.
      atomics: 'disabled',
      workerData: opts.init,
    });
    this.#piscina.on('message', (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && READY_MESSAGE_KEY in msg) this.#ready.add((msg as Record<string, number>)[READY_MESSAGE_KEY]);
    });
    // A worker that fails outside a task (e.g. while loading models) must not crash the process.
    this.#piscina.on('error', (err: Error) => {
      this.#lastError = err;
    });
  }

  /** Starts the workers and resolves once every one of them has loaded its models. */
  static async start(opts: PoolOptions, startTimeoutMs = 120_000): Promise<FacePool> {
    const pool = new FacePool(opts);
    const deadline = Date.now() + startTimeoutMs;
    while (!pool.ready) {
      if (pool.#lastError || Date.now() > deadline) {
        const cause = pool.#lastError;
        await pool.close();
        throw new FaceError('ENGINE_UNAVAILABLE', `Face workers failed to start: ${cause ? cause.message : 'timed out loading models'}`, { cause });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return pool;
  }

  /** True while every live worker has reported its models loaded (false while a replacement loads). */
  get ready(): boolean {
    if (this.#closed) return false;
    const live = new Set(this.#piscina.threads.map((w) => w.threadId));
    for (const id of this.#ready) if (!live.has(id)) this.#ready.delete(id);
    return live.size >= this.size && this.#ready.size >= this.size;
  }

  get threads(): Worker[] {
    return this.#piscina.threads;
  }

  stats(): { poolSize: number; queued: number; running: number } {
    return { poolSize: this.size, ...this.#scheduler.stats() };
  }

  /** How long a request for `purposes`, admitted now, would wait for workers (ms). */
  expectedWaitMs(purposes: readonly Purpose[]): number {
    return this.#scheduler.expectedWaitMs(purposes);
  }

  /**
   * Admits one request for all its analyses, or throws OVERLOADED: a request that needs several (the Face Match
   * API's selfie, reference and document portrait) waits for its last one, so admitting them one by one would queue
   * work for a request that is then refused, or accept one that waits past `maxWaitMs`. Pass the admission to `run`
   * for each of them, and release it when the request ends.
   */
  admit(purposes: readonly Purpose[], opts?: AdmitOptions): Admission {
    return this.#scheduler.admit(purposes, opts);
  }

  /**
   * The image buffer is transferred to the worker: callers must not use it afterwards. An analysis that finds two
   * workers idle and nothing else waiting is shared by the two when it is a verification, enrolment or document
   * analysis (see #share); otherwise it runs whole on one worker, with no hand-over between them. Without an
   * `admission` reserving its purpose, the analysis is admitted alone.
   */
  async run(image: Uint8Array, purpose: Purpose, { lane = 'trusted', shareIdle = true, admission, detections }: AnalyzeOptions = {}): Promise<PipelineResult> {
    if (this.#closed) throw new FaceError('ENGINE_UNAVAILABLE', 'The face engine is closed');
    const shareable = shareIdle && SHARED_PURPOSES.includes(purpose);
    return this.#scheduler.run(admission, purpose, lane, shareable, async (shared) => {
      const task: WorkerTask = { image, purpose, ...(detections && { detections }) };
      const transferList: TransferListItem[] = [image.buffer as ArrayBuffer];
      return shared ? this.#share(task, transferList) : unwrap(await this.#task<PipelineResult>(task, transferList));
    });
  }

  /**
   * One worker decodes and detects, hands the inputs that need only the subject's box (liveness, pose) and, for a
   * reference, the mirrored aligned face over, and goes on with the landmarks, alignment and the face's own
   * embedding while another worker runs those models; the result is assembled here. One analysis in flight on two
   * cores then takes the decode and detection plus the longer half
   * instead of the sum of every stage (src/face/README.md). The scheduler holds both workers for it, so the
   * hand-offs never wait behind another analysis.
   */
  async #share(task: WorkerTask, transferList: TransferListItem[]): Promise<PipelineResult> {
    const { port1, port2 } = new MessageChannel();
    const handedOff: Promise<ModelOutputs>[] = [];
    let arrived = () => {};
    port1.on('message', (inputs: ModelInputs) => {
      const outputs = this.#task<ModelOutputs>(inputs, tensorBuffers(inputs), 'infer').then(unwrap);
      // Awaited once the worker's own part is done; a failure meanwhile is the analysis's failure, not unhandled.
      outputs.catch(() => {});
      handedOff.push(outputs);
      arrived();
    });
    try {
      const shared: SharedTask = { ...task, port: port2 };
      const first = unwrap(await this.#task<SharedResult>(shared, [...transferList, port2], 'share'));
      if ('done' in first) return first.done;
      // The hand-offs were posted before the result, on another port: wait for any still on its way.
      while (handedOff.length < first.handedOff) await new Promise<void>((resolve) => (arrived = resolve));
      return assemble(first.prepared, [first.own, ...(await Promise.all(handedOff))], this.#config);
    } finally {
      port1.close();
    }
  }

  /** Piscina gets a task only when the scheduler has a worker for it: its time limit counts running time only. */
  async #task<T>(task: WorkerTask | SharedTask | ModelInputs, transferList: TransferListItem[], name?: 'share' | 'infer'): Promise<T | SerializedFaceError> {
    try {
      return (await this.#piscina.run(task, { transferList, signal: AbortSignal.timeout(this.#taskTimeoutMs), ...(name && { name }) })) as T | SerializedFaceError;
    } catch (err) {
      throw mapPoolError(err, this.#taskTimeoutMs);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#piscina.destroy();
  }
}

function unwrap<T>(result: T | SerializedFaceError): T {
  if (isSerializedFaceError(result)) throw new FaceError(result.faceError.code, result.faceError.message);
  return result;
}

function mapPoolError(err: unknown, timeoutMs: number): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'AbortError' || e.name === 'TimeoutError') {
    return new FaceError('ENGINE_UNAVAILABLE', `Face analysis did not finish within ${timeoutMs} ms`, { retryAfter: RETRY_AFTER_S, cause: e });
  }
  if (/worker exited|terminating worker|closed|destroy/i.test(e.message)) {
    return new FaceError('ENGINE_UNAVAILABLE', `A face worker stopped during the analysis (${e.message})`, { retryAfter: RETRY_AFTER_S, cause: e });
  }
  return e;
}
