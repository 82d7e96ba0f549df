// `face-oidc bench` / `npm run bench`: the face engine, the sign-in capture, the Face Match API and challenge liveness, against targets.
import type { AccountService } from '../accounts/service.js';
import type { BiometricConsent, Enrollment } from '../biometrics/index.js';
import type { Config } from '../config/index.js';
import type { ClientStore } from '../oidc/clients.js';
import { runApiBench, type ApiBenchResult } from './api.js';
import { runCaptureBench, type CaptureBenchResult } from './capture.js';
import { runChallengeBench, type ChallengeBenchResult } from './challenge.js';
import { formatOverload, runOverloadBench, type OverloadBenchResult } from './overload.js';
import { runDocumentBench, type DocumentBenchResult } from './documents.js';
import { runFaceBench, type FaceBenchResult } from './face.js';
import { frame640x480, SAMPLE } from './sample.js';

/** The scenarios `face-oidc bench --only` can pick, in the order they run. */
export const BENCHMARKS = ['face', 'capture', 'api', 'overload', 'challenge', 'documents'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** What `face-oidc bench` measured: every scenario, or those `--only` named. */
export interface Benchmarks {
  /**
   * The figure to set beside another face library's per-image time: one image, one verification (decode, detect,
   * landmarks, align, embed, liveness, quality, compare), one in flight, median wall time as the caller sees it.
   */
  peerComparable?: { image: string; p50Ms: number };
  face?: FaceBenchResult;
  capture?: CaptureBenchResult;
  api?: ApiBenchResult;
  /** The Face Match API past capacity: 8 backends × 4 calls in flight. */
  overload?: OverloadBenchResult;
  challenge?: ChallengeBenchResult;
  documents?: DocumentBenchResult;
  /** Peak RSS of the whole bench process: the engine run, then two throw-away servers with their own engines. */
  processPeakRssMb: number;
}

/** The figures the product owner set for this 2-vCPU machine. */
export const TARGETS = {
  'face p50 ms': 25,
  'face p90 ms': 45,
  'face verifications/s (2 in flight)': 70,
  'event-loop delay p99 ms': 20,
  'peak RSS MB': 700,
  'capture POST p50 ms (3 frames)': 90,
  'API match p50 ms': 70,
  'API matches/s (2 in flight)': 20,
  'challenge CPU p50 ms (completed)': 250,
  'API overload: accepted p99 ms': 3000,
  'document read p50 ms': 800,
  'document reader RSS growth MB': 50,
};

/** What the capture and API benchmarks need of a running server: its address and the services they set up data with. */
export interface BenchServer {
  url: string;
  services: {
    clients: Pick<ClientStore, 'create' | 'delete'>;
    accounts: Pick<AccountService, 'create'>;
    consent: Pick<BiometricConsent, 'record'>;
    enrollment: Pick<Enrollment, 'enroll'>;
  };
}

/** Starts a throw-away server with `env`, hands it to `fn`, then stops and removes it (the CLI passes src/server's). */
export type WithServer = <T>(env: Record<string, string>, fn: (server: BenchServer) => Promise<T>) => Promise<T>;

/**
 * Face engine, sign-in capture and Face Match API benchmarks, the last two each on a throw-away embedded server;
 * `only` runs the named scenarios alone (an operator checking one figure need not wait for, or load, the rest).
 */
export async function runBenchmarks(
  config: Config,
  opts: { image?: string; seconds?: number; documentReads?: number; only?: readonly BenchmarkName[] },
  withServer: WithServer,
): Promise<Benchmarks> {
  const runs = (name: BenchmarkName) => !opts.only || opts.only.includes(name);
  const matchImages = async () => ({ selfie: await frame640x480(SAMPLE.samePerson), reference: await frame640x480(SAMPLE.portrait) });
  const serverEnv = { FACE_WORKERS: String(config.face.poolSize) };
  const r: Omit<Benchmarks, 'processPeakRssMb'> = {};
  if (runs('face')) {
    r.face = await runFaceBench({ modelsDir: config.modelsDir, poolSize: config.face.poolSize, image: opts.image, seconds: opts.seconds });
    r.peerComparable = { image: `${r.face.image.width}×${r.face.image.height}, ${r.face.image.bytes} bytes`, p50Ms: r.face.latencyMs.p50 };
  }
  if (runs('capture')) r.capture = await runCaptureBench(withServer, { poolSize: config.face.poolSize, image: opts.image });
  if (runs('api')) r.api = await withServer(serverEnv, async (server) => runApiBench({ url: server.url, clients: server.services.clients }, await matchImages()));
  if (runs('overload')) r.overload = await withServer(serverEnv, async (server) => runOverloadBench({ url: server.url, clients: server.services.clients }, await matchImages()));
  if (runs('challenge')) r.challenge = await runChallengeBench({ modelsDir: config.modelsDir, poolSize: config.face.poolSize });
  if (runs('documents')) r.documents = await runDocumentBench({ modelsDir: config.modelsDir, reads: opts.documentReads });
  return { ...r, processPeakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10 };
}

type Row = [keyof typeof TARGETS, number, 'max' | 'min'];

export function formatBenchmarks(r: Benchmarks): string {
  const rows: Row[] = [
    ...(r.face
      ? ([
          ['face p50 ms', r.face.latencyMs.p50, 'max'],
          ['face p90 ms', r.face.latencyMs.p90, 'max'],
          ['face verifications/s (2 in flight)', r.face.throughput.concurrency2, 'min'],
          ['event-loop delay p99 ms', r.face.eventLoopDelayP99Ms, 'max'],
          ['peak RSS MB', r.face.peakRssMb, 'max'],
        ] satisfies Row[])
      : []),
    ...(r.capture ? ([['capture POST p50 ms (3 frames)', r.capture.p50Ms, 'max']] satisfies Row[]) : []),
    ...(r.api
      ? ([
          ['API match p50 ms', r.api.p50Ms, 'max'],
          ['API matches/s (2 in flight)', r.api.matchesPerSecond2, 'min'],
        ] satisfies Row[])
      : []),
    ...(r.challenge ? ([['challenge CPU p50 ms (completed)', r.challenge.cpuMs.p50, 'max']] satisfies Row[]) : []),
    ...(r.overload ? ([['API overload: accepted p99 ms', r.overload.acceptedP99Ms, 'max']] satisfies Row[]) : []),
    ...(r.documents
      ? ([
          ['document read p50 ms', r.documents.latencyMs.p50, 'max'],
          ['document reader RSS growth MB', r.documents.rssMb.growth, 'max'],
        ] satisfies Row[])
      : []),
  ];
  const lines = rows.map(([name, value, kind]) => {
    const target = TARGETS[name];
    const ok = kind === 'max' ? value <= target : value >= target;
    return `${name.padEnd(36)} ${String(value).padStart(8)}   target ${kind === 'max' ? '≤' : '≥'} ${target}   ${ok ? 'ok' : 'MISSED'}`;
  });
  const details = [
    r.face && `face stage medians (ms): ${Object.entries(r.face.stagesMs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    r.face && `face latency p99 ms: ${r.face.latencyMs.p99}`,
    r.capture && `capture p90 ms: ${r.capture.p90Ms}`,
    r.api && `API p90 ms: ${r.api.p90Ms}`,
    r.challenge &&
      `challenge: ${r.challenge.framesAnalysed} frames analysed (${r.challenge.embedded} analyses with an embedding), CPU p90 ${r.challenge.cpuMs.p90} ms, ${r.challenge.challengesPerSecond2} completed challenges/s with 2 in flight (${r.challenge.recording.movements} recorded at ${r.challenge.recording.fps} fps, ${r.challenge.recording.frameSize}, replayed at ${r.challenge.replayFps} fps)`,
    r.overload && formatOverload(r.overload),
    r.documents &&
      `documents: ${r.documents.reads} reads of ${r.documents.documents} synthetic documents, ${r.documents.readExactly} exact, p90 ${r.documents.latencyMs.p90} ms; RSS warm ${r.documents.rssMb.warm} MB, end ${r.documents.rssMb.end} MB, peak ${r.documents.rssMb.peak} MB`,
  ].filter((line): line is string => Boolean(line));
  return [
    ...(r.peerComparable ? [`one verification of one image (${r.peerComparable.image}), one in flight: p50 ${r.peerComparable.p50Ms} ms`, ''] : []),
    ...lines,
    '',
    ...details,
    `peak RSS of the whole bench process: ${r.processPeakRssMb} MB`,
  ].join('\n');
}
