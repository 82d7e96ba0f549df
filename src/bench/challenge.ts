import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ChallengeSession, embeddedAnalyses, engineAnalyzer, parseMovements, type Decision } from '../challenge/index.js';
import { createFaceEngine, percentile, type FaceEngine } from '../face/index.js';
import { SAMPLE } from './sample.js';

export interface ChallengeBenchResult {
  /** The recorded answer: its movements, frame rate, frames and size; and the frame rate it is replayed at. */
  recording: { movements: string; fps: number; frames: number; frameSize: string };
  replayFps: number;
  /** Completed challenges timed one at a time, then with two in flight. */
  challenges: { concurrency1: number; concurrency2: number };
  /** Server CPU (all threads of the process, user + system) per completed challenge, one in flight. */
  cpuMs: { p50: number; p90: number };
  /** Frames analysed per completed challenge (p50), and the analyses among them that embedded the face ('turn', 'verify'). */
  framesAnalysed: number;
  embedded: number;
  /** Completed challenges per second with two in flight, frames pushed as fast as they are answered. */
  challengesPerSecond2: number;
}

/**
 * views/static/face-challenge.js streams about 7 frames a second (a frame every 150 ms, once the last one is
 * answered); the shipped recording has 6, so it is replayed at its own rate, every frame.
 */
const LIVE_PAGE_FPS = 6;

const round = (v: number) => Math.round(v * 10) / 10;

interface Timed {
  bytes: Buffer;
  /** When the frame was captured, ms after the first. */
  ms: number;
}

/** The frames a camera running at `fps` would have delivered of the recording: the nearest recorded frame each time. */
function resample(frames: Buffer[], recordedFps: number, fps: number): Timed[] {
  const out: Timed[] = [];
  for (let k = 0; ; k++) {
    const i = Math.round((k * recordedFps) / fps);
    if (i >= frames.length) return out;
    out.push({ bytes: frames[i], ms: Math.round((i * 1000) / recordedFps) });
  }
}

/** Plays the frames through a fresh challenge, each arriving when it was captured on the challenge's clock. */
async function answerOnce(engine: FaceEngine, frames: Timed[], movements: string): Promise<Decision> {
  const now = Date.now();
  let t = now;
  // Answered at once on the challenge's clock, as the page would send the next frame when it is captured.
  const session = ChallengeSession.start(
    { id: 'bench', movements: parseMovements(movements), createdAt: now, expiresAt: now + 45_000 },
    { analyze: engineAnalyzer(engine), livenessThreshold: engine.thresholds.livenessThreshold, clock: () => t },
  );
  for (const frame of frames) {
    if (session.finished) break;
    t = now + frame.ms;
    await session.push(frame.bytes, t);
  }
  const d = session.finish(t);
  if (!d.passed) throw new Error(`the recorded challenge answer was refused (${d.code}); the benchmark needs a completed challenge`);
  return d;
}

/**
 * Server cost of challenge liveness: the shipped recording of a person answering "up, right" (6 frames per second),
 * replayed as completed challenges at its own 6 frames per second, close to the live page's 7 (or `fps`). CPU is measured for the whole
 * process, so it includes the engine's worker threads, the verifier and the hashing of frames.
 */
export async function runChallengeBench(opts: { modelsDir: string; poolSize: number; iterations?: number; fps?: number }): Promise<ChallengeBenchResult> {
  const { dir, movements, fps } = SAMPLE.challenge;
  const replayFps = opts.fps ?? LIVE_PAGE_FPS;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  const recorded = await Promise.all(files.map((f) => readFile(path.join(dir, f))));
  const frames = resample(recorded, fps, replayFps);
  const iterations = opts.iterations ?? 12;
  const engine = await createFaceEngine({ modelsDir: opts.modelsDir, poolSize: opts.poolSize });
  try {
    await answerOnce(engine, frames, movements);
    const cpu: number[] = [];
    const decisions: Decision[] = [];
    for (let i = 0; i < iterations; i++) {
      const before = process.cpuUsage();
      decisions.push(await answerOnce(engine, frames, movements));
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
    }

    let started = 0;
    const t0 = performance.now();
    const lane = async () => {
      while (started < iterations) {
        started++;
        await answerOnce(engine, frames, movements);
      }
    };
    await Promise.all([lane(), lane()]);
    const seconds = (performance.now() - t0) / 1000;

    const { width, height } = await sharp(recorded[0]).metadata();
    return {
      recording: { movements, fps, frames: recorded.length, frameSize: `${width}×${height}` },
      replayFps,
      challenges: { concurrency1: iterations, concurrency2: iterations },
      cpuMs: { p50: round(percentile(cpu, 50)), p90: round(percentile(cpu, 90)) },
      framesAnalysed: percentile(decisions.map((d) => d.frames), 50),
      embedded: percentile(decisions.map((d) => embeddedAnalyses(d.analysed)), 50),
      challengesPerSecond2: round(iterations / seconds),
    };
  } finally {
    await engine.close();
  }
}
