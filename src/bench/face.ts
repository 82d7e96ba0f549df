import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { createFaceEngine, percentile, type FaceEngine, type FaceEngineOptions } from '../face/index.js';
import { frame640x480, SAMPLE } from './sample.js';

export interface FaceBenchResult {
  image: { path: string; width: number; height: number; bytes: number };
  poolSize: number;
  /** Verifications timed in each phase (one in flight, then two). */
  verifications: { concurrency1: number; concurrency2: number };
  /** One verification in flight: analyze('verify') + compare, as a caller sees it. */
  latencyMs: { p50: number; p90: number; p99: number };
  /** Verifications per second. */
  throughput: { concurrency1: number; concurrency2: number };
  /** Median per-stage times inside the worker, one in flight. */
  stagesMs: Record<string, number>;
  peakRssMb: number;
  /** perf_hooks.monitorEventLoopDelay p99 on the main thread while two verifications are always in flight. */
  eventLoopDelayP99Ms: number;
  seconds: number;
}

/** The given image as it is, or the shipped sample portrait as a 640×480 camera frame. */
async function benchImage(file: string | undefined): Promise<{ path: string; bytes: Buffer }> {
  if (file) return { path: file, bytes: await readFile(file) };
  return { path: `${SAMPLE.portrait} (640×480)`, bytes: await frame640x480(SAMPLE.portrait) };
}

async function verifyOnce(engine: FaceEngine, bytes: Buffer, template: Float32Array): Promise<Record<string, number>> {
  const a = await engine.analyze(bytes, 'verify');
  if (!a.embedding) throw new Error('The bench image has no detectable face');
  engine.compare(a.embedding, [template]);
  return a.timings;
}

/** Runs verifications for `ms`, `lanes` at a time; returns per-verification wall times and worker stage timings. */
async function phase(engine: FaceEngine, bytes: Buffer, template: Float32Array, lanes: number, ms: number) {
  const latencies: number[] = [];
  const stages: Record<string, number>[] = [];
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        stages.push(await verifyOnce(engine, bytes, template));
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, stages, seconds: (performance.now() - start) / 1000 };
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** End-to-end verification benchmark of one image: latency, throughput, stage medians, memory, event-loop delay. */
export async function runFaceBench(opts: FaceEngineOptions & { image?: string; seconds?: number }): Promise<FaceBenchResult> {
  const seconds = opts.seconds ?? 10;
  const { path, bytes } = await benchImage(opts.image);
  const meta = await sharp(bytes).autoOrient().metadata();
  const engine = await createFaceEngine(opts);
  try {
    const enrolled = await engine.analyze(bytes, 'enroll');
    if (!enrolled.embedding) throw new Error(`No face detected in the bench image ${path}`);
    const template = enrolled.embedding;
    for (let i = 0; i < 10; i++) await verifyOnce(engine, bytes, template);

    const one = await phase(engine, bytes, template, 1, (seconds * 1000) / 2);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const two = await phase(engine, bytes, template, 2, (seconds * 1000) / 2);
    delay.disable();

    const stageNames = [...new Set(one.stages.flatMap((s) => Object.keys(s)))];
    const stagesMs = Object.fromEntries(stageNames.map((k) => [k, round(percentile(one.stages.map((s) => s[k] ?? 0), 50), 2)]));
    return {
      image: { path, width: meta.autoOrient.width, height: meta.autoOrient.height, bytes: bytes.length },
      poolSize: engine.stats().poolSize,
      verifications: { concurrency1: one.latencies.length, concurrency2: two.latencies.length },
      latencyMs: { p50: round(percentile(one.latencies, 50)), p90: round(percentile(one.latencies, 90)), p99: round(percentile(one.latencies, 99)) },
      throughput: { concurrency1: round(one.latencies.length / one.seconds), concurrency2: round(two.latencies.length / two.seconds) },
      stagesMs,
      peakRssMb: round(process.resourceUsage().maxRSS / 1024),
      eventLoopDelayP99Ms: round(delay.percentile(99) / 1e6, 2),
      seconds: round(one.seconds + two.seconds, 2),
    };
  } finally {
    await engine.close();
  }
}
