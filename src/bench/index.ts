import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT_DIR, type Config } from '../config/index.js';
import { runApiBench, type ApiBenchResult } from './api.js';
import { runCaptureBench, type CaptureBenchResult } from './capture.js';
import { runBench, type BenchResult } from './engine.js';
import { withTemporaryServer } from './temporary-server.js';

export interface AllBenchmarks {
  face: BenchResult;
  capture: CaptureBenchResult;
  api: ApiBenchResult;
}

/** The figures the product owner set for this 2-vCPU machine. */
export const TARGETS = {
  'face p50 ms': 30,
  'face p90 ms': 45,
  'face verifications/s (2 in flight)': 45,
  'event-loop delay p99 ms': 20,
  'peak RSS MB': 700,
  'capture POST p50 ms (3 frames)': 90,
  'API match p50 ms': 70,
  'API matches/s (2 in flight)': 20,
};

const FIXTURES = path.join(ROOT_DIR, 'test', 'fixtures', 'api');

async function photo640x480(file: string): Promise<Buffer> {
  return sharp(await readFile(file)).rotate().resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
}

/** Face engine, sign-in capture and Face Match API benchmarks, each on a throw-away embedded server. */
export async function runAllBenchmarks(config: Config, opts: { image?: string; seconds?: number }): Promise<AllBenchmarks> {
  const face = await runBench({ modelsDir: config.modelsDir, poolSize: config.face.poolSize, image: opts.image, seconds: opts.seconds });
  const capture = await runCaptureBench({ poolSize: config.face.poolSize, image: opts.image });
  const api = await withTemporaryServer({ FACE_WORKERS: String(config.face.poolSize) }, async (server) =>
    runApiBench(
      { url: server.url, clients: server.services.clients },
      { selfie: await photo640x480(path.join(FIXTURES, 'person-a-1.jpg')), reference: await photo640x480(path.join(FIXTURES, 'person-a-2.jpg')) },
    ),
  );
  return { face, capture, api };
}

export function formatBenchmarks(r: AllBenchmarks): string {
  const rows: [string, number, number, 'max' | 'min'][] = [
    ['face p50 ms', r.face.latencyMs.p50, TARGETS['face p50 ms'], 'max'],
    ['face p90 ms', r.face.latencyMs.p90, TARGETS['face p90 ms'], 'max'],
    ['face verifications/s (2 in flight)', r.face.throughput.concurrency2, TARGETS['face verifications/s (2 in flight)'], 'min'],
    ['event-loop delay p99 ms', r.face.eventLoopDelayP99Ms, TARGETS['event-loop delay p99 ms'], 'max'],
    ['peak RSS MB', r.face.peakRssMb, TARGETS['peak RSS MB'], 'max'],
    ['capture POST p50 ms (3 frames)', r.capture.p50Ms, TARGETS['capture POST p50 ms (3 frames)'], 'max'],
    ['API match p50 ms', r.api.p50Ms, TARGETS['API match p50 ms'], 'max'],
    ['API matches/s (2 in flight)', r.api.matchesPerSecond2, TARGETS['API matches/s (2 in flight)'], 'min'],
  ];
  const lines = rows.map(([name, value, target, kind]) => {
    const ok = kind === 'max' ? value <= target : value >= target;
    return `${name.padEnd(36)} ${String(value).padStart(8)}   target ${kind === 'max' ? '≤' : '≥'} ${target}   ${ok ? 'ok' : 'MISSED'}`;
  });
  const stages = Object.entries(r.face.stagesMs).map(([k, v]) => `${k} ${v}`).join(', ');
  return [...lines, '', `face stage medians (ms): ${stages}`, `face latency p99 ms: ${r.face.latencyMs.p99}; capture p90 ms: ${r.capture.p90Ms}; API p90 ms: ${r.api.p90Ms}`].join('\n');
}
