// `face-oidc bench` / `npm run bench`: the face engine, the sign-in capture, the Face Match API and challenge liveness, against targets.
import type { AccountService } from '../accounts/service.js';
import type { BiometricConsent, Enrollment } from '../biometrics/index.js';
import type { Config } from '../config/index.js';
import type { ClientStore } from '../oidc/clients.js';
import { runApiBench, type ApiBenchResult } from './api.js';
import { runCaptureBench, type CaptureBenchResult } from './capture.js';
import { runChallengeBench, type ChallengeBenchResult } from './challenge.js';
import { runOverloadBench, type OverloadBenchResult } from './overload.js';
import { runDocumentBench, type DocumentBenchResult } from './documents.js';
import { runFaceBench, type FaceBenchResult } from './face.js';
import { frame640x480, SAMPLE } from './sample.js';

export interface AllBenchmarks {
  /**
   * The figure to set beside another face library's per-image time: one image, one verification (decode, detect,
   * landmarks, align, embed, liveness, quality, compare), one in flight, median wall time as the caller sees it.
   */
  peerComparable: { image: string; p50Ms: number };
  face: FaceBenchResult;
  capture: CaptureBenchResult;
  api: ApiBenchResult;
  /** The Face Match API past capacity: 8 backends × 4 calls in flight. */
  overload: OverloadBenchResult;
  challenge: ChallengeBenchResult;
  documents: DocumentBenchResult;
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

/** Face engine, sign-in capture and Face Match API benchmarks, the last two each on a throw-away embedded server. */
export async function runAllBenchmarks(config: Config, opts: { image?: string; seconds?: number; documentReads?: number }, withServer: WithServer): Promise<AllBenchmarks> {
  const face = await runFaceBench({ modelsDir: config.modelsDir, poolSize: config.face.poolSize, image: opts.image, seconds: opts.seconds });
  const capture = await runCaptureBench(withServer, { poolSize: config.face.poolSize, image: opts.image });
  const api = await withServer({ FACE_WORKERS: String(config.face.poolSize) }, async (server) =>
    runApiBench(
      { url: server.url, clients: server.services.clients },
      { selfie: await frame640x480(SAMPLE.samePerson), reference: await frame640x480(SAMPLE.portrait) },
    ),
  );
  const overload = await withServer({ FACE_WORKERS: String(config.face.poolSize) }, async (server) =>
    runOverloadBench({ url: server.url, clients: server.services.clients }, { selfie: await frame640x480(SAMPLE.samePerson), reference: await frame640x480(SAMPLE.portrait) }),
  );
  const challenge = await runChallengeBench({ modelsDir: config.modelsDir, poolSize: config.face.poolSize });
  const documents = await runDocumentBench({ modelsDir: config.modelsDir, reads: opts.documentReads });
  return {
    peerComparable: { image: `${face.image.width}×${face.image.height}, ${face.image.bytes} bytes`, p50Ms: face.latencyMs.p50 },
    face,
    capture,
    api,
    overload,
    challenge,
    documents,
    processPeakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
  };
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
    ['challenge CPU p50 ms (completed)', r.challenge.cpuMs.p50, TARGETS['challenge CPU p50 ms (completed)'], 'max'],
    ['API overload: accepted p99 ms', r.overload.acceptedP99Ms, TARGETS['API overload: accepted p99 ms'], 'max'],
    ['document read p50 ms', r.documents.latencyMs.p50, TARGETS['document read p50 ms'], 'max'],
    ['document reader RSS growth MB', r.documents.rssMb.growth, TARGETS['document reader RSS growth MB'], 'max'],
  ];
  const lines = rows.map(([name, value, target, kind]) => {
    const ok = kind === 'max' ? value <= target : value >= target;
    return `${name.padEnd(36)} ${String(value).padStart(8)}   target ${kind === 'max' ? '≤' : '≥'} ${target}   ${ok ? 'ok' : 'MISSED'}`;
  });
  const stages = Object.entries(r.face.stagesMs).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `one verification of one image (${r.peerComparable.image}), one in flight: p50 ${r.peerComparable.p50Ms} ms`,
    '',
    ...lines,
    '',
    `face stage medians (ms): ${stages}`,
    `face latency p99 ms: ${r.face.latencyMs.p99}; capture p90 ms: ${r.capture.p90Ms}; API p90 ms: ${r.api.p90Ms}`,
    `challenge: ${r.challenge.framesAnalysed} frames analysed (${r.challenge.verifyFrames} again with 'verify'), CPU p90 ${r.challenge.cpuMs.p90} ms, ${r.challenge.challengesPerSecond2} completed challenges/s with 2 in flight (${r.challenge.recording.movements} recorded at ${r.challenge.recording.fps} fps, ${r.challenge.recording.frameSize}, replayed at ${r.challenge.replayFps} fps)`,
    `API overload (8 clients × 4 in flight): ${r.overload.answered} answers, accepted p50 ${r.overload.acceptedP50Ms} ms, p99 ${r.overload.acceptedP99Ms} ms; shed ${Math.round(r.overload.shedShare * 1000) / 10} % (503 + Retry-After, slowest refusal ${r.overload.shedMaxMs} ms); other answers ${r.overload.other}`,
    `documents: ${r.documents.reads} reads of ${r.documents.documents} synthetic documents, ${r.documents.readExactly} exact, p90 ${r.documents.latencyMs.p90} ms; RSS warm ${r.documents.rssMb.warm} MB, end ${r.documents.rssMb.end} MB, peak ${r.documents.rssMb.peak} MB`,
    `peak RSS of the whole bench process (engine, then two servers, then the document reader): ${r.processPeakRssMb} MB`,
  ].join('\n');
}
