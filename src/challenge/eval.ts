import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createFaceEngine, percentile, type FaceEngineOptions } from '../face/index.js';
import { MAX_LIFETIME_MS, parseMovements } from './draw.js';
import { ChallengeSession, engineAnalyzer } from './session.js';
import { embeddedAnalyses, type Challenge, type Decision } from './types.js';
import type { TraceLine } from './verifier.js';

export const BONA_FIDE = 'bona_fide';

export interface Sequence {
  dir: string;
  challenge: string;
  label: string;
  fps: number;
}

export interface SequenceResult extends Sequence {
  /** JPEG files in the folder; frames after the decision are not analysed. */
  frames: number;
  /** Frames accepted for analysis (too early, stalled or after the decision: not). */
  accepted: number;
  decision: 'accept' | 'reject';
  /** Failure code, null when accepted. */
  reason: string | null;
  completed: string[];
  /** Index of the frame the decision was taken at (the last frame judged when the clip ended undecided). */
  decidedAt: number;
  analysed: Decision['analysed'];
  /** Per-frame measures and verdicts, with --explain. */
  trace?: TraceLine[];
  /** Process CPU (every thread: engine workers, verifier, hashing) while the sequence was judged, ms. */
  cpuMs: number;
}

export interface CpuFigures {
  challenges: number;
  p50Ms: number;
  p90Ms: number;
  /** Frames analysed per challenge (p50), and the analyses among them that embedded the face ('turn', 'verify'). */
  framesAnalysedP50: number;
  embeddedP50: number;
}

export interface LivenessEvalResult {
  sequences: number;
  /** Sequences per label. */
  counts: Record<string, number>;
  /** Bona fide presentations rejected / bona fide presentations (ISO/IEC 30107-3), null without bona fide. */
  bpcer: number | null;
  /** Attacks accepted / attacks, per species (label). */
  apcer: Record<string, number>;
  /** Per completed (accepted) challenge, and over every sequence. */
  cpu: { completed: CpuFigures | null; all: CpuFigures };
  results: SequenceResult[];
  seconds: number;
}

/** `dir<TAB>challenge<TAB>label<TAB>fps` lines; blank lines and # comments skipped; dirs relative to the file. */
export async function readSequences(file: string): Promise<Sequence[]> {
  const base = path.dirname(path.resolve(file));
  const text = await readFile(file, 'utf8');
  const out: Sequence[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const cols = line.split('\t');
    const fps = Number(cols[3]);
    const where = `${file}:${i + 1}`;
    if (cols.length !== 4 || !cols[0] || !/^[a-z0-9_]+$/.test(cols[2]) || !(fps > 0 && fps <= 60)) {
      throw new Error(`${where}: expected dir<TAB>challenge<TAB>label<TAB>fps (label in [a-z0-9_], 0 < fps ≤ 60)`);
    }
    try {
      parseMovements(cols[1]);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    out.push({ dir: path.resolve(base, cols[0]), challenge: cols[1], label: cols[2], fps });
  });
  if (out.length === 0) throw new Error(`${file} has no sequences`);
  return out;
}

async function frameFiles(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /\.jpe?g$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`${dir} has no JPEG frames`);
  return files.map((f) => path.join(dir, f));
}

/** Plays one sequence through a challenge session, frame i arriving at i / fps seconds. */
async function runSequence(seq: Sequence, opts: { analyze: ReturnType<typeof engineAnalyzer>; livenessThreshold: number; explain: boolean }): Promise<SequenceResult> {
  const files = await frameFiles(seq.dir);
  const frames = await Promise.all(files.map((f) => readFile(f)));
  const cpu = process.cpuUsage();
  const challenge: Challenge = { id: path.basename(seq.dir), movements: parseMovements(seq.challenge), createdAt: 0, expiresAt: MAX_LIFETIME_MS };
  let t = 0;
  // The recording's clock: each frame is answered at once, so the pause before the next is the frame interval.
  const session = ChallengeSession.start(challenge, { analyze: opts.analyze, livenessThreshold: opts.livenessThreshold, explain: opts.explain, clock: () => t });
  let decidedAt = 0;
  for (const [i, frame] of frames.entries()) {
    if (session.finished) break;
    t = Math.round((i * 1000) / seq.fps);
    decidedAt = i;
    await session.push(frame, t);
  }
  const d: Decision = session.finish(t);
  const used = process.cpuUsage(cpu);
  const cpuMs = Math.round((used.user + used.system) / 100) / 10;
  const trace = opts.explain ? { trace: session.verifier.trace() } : {};
  return { ...seq, frames: files.length, decision: d.passed ? 'accept' : 'reject', reason: d.code, completed: d.completed, decidedAt, accepted: d.frames, analysed: d.analysed, cpuMs, ...trace };
}

function cpuFigures(results: SequenceResult[]): CpuFigures | null {
  if (results.length === 0) return null;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    challenges: results.length,
    p50Ms: round(percentile(results.map((r) => r.cpuMs), 50)),
    p90Ms: round(percentile(results.map((r) => r.cpuMs), 90)),
    framesAnalysedP50: percentile(results.map((r) => r.accepted), 50),
    embeddedP50: percentile(results.map((r) => embeddedAnalyses(r.analysed)), 50),
  };
}

/**
 * Presentation-attack detection figures of the challenge verifier on labelled frame sequences (ISO/IEC 30107-3
 * style): BPCER over `bona_fide`, APCER per attack species. The verifier is the live path's; without account
 * templates the match is not checked, so the figures are about liveness only.
 */
export async function runLivenessEval(file: string, opts: FaceEngineOptions & { explain?: boolean }): Promise<LivenessEvalResult> {
  const started = performance.now();
  const sequences = await readSequences(file);
  for (const s of sequences) await frameFiles(s.dir);
  const engine = await createFaceEngine(opts);
  const results: SequenceResult[] = new Array<SequenceResult>(sequences.length);
  try {
    const analyze = engineAnalyzer(engine);
    const livenessThreshold = engine.thresholds.livenessThreshold;
    // One sequence at a time, as one sign-in would be judged, so that the process CPU it used is its own.
    for (const [i, seq] of sequences.entries()) results[i] = await runSequence(seq, { analyze, livenessThreshold, explain: opts.explain ?? false });
  } finally {
    await engine.close();
  }

  const counts: Record<string, number> = {};
  for (const r of results) counts[r.label] = (counts[r.label] ?? 0) + 1;
  const rate = (list: SequenceResult[], accepted: boolean) => list.filter((r) => (r.decision === 'accept') === accepted).length / list.length;
  const bonaFide = results.filter((r) => r.label === BONA_FIDE);
  const apcer: Record<string, number> = {};
  for (const label of Object.keys(counts).sort()) {
    if (label !== BONA_FIDE) apcer[label] = rate(results.filter((r) => r.label === label), true);
  }
  return {
    sequences: results.length,
    counts,
    bpcer: bonaFide.length ? rate(bonaFide, false) : null,
    apcer,
    cpu: { completed: cpuFigures(results.filter((r) => r.decision === 'accept')), all: cpuFigures(results)! },
    results,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);

const num = (v: number | null, digits = 2) => (v === null ? '·' : v.toFixed(digits));

/** One frame of --explain: index, time, analysis, offsets and fr_pose from the rest pose, progress, travel, verdict. */
function explainLine(l: TraceLine): string {
  return `    #${String(l.index).padEnd(3)} ${String(l.t).padStart(6)} ms ${l.purpose.padEnd(6)} x ${num(l.x).padStart(5)} y ${num(l.y).padStart(5)} yaw ${num(l.yaw, 1).padStart(6)} pitch ${num(l.pitch, 1).padStart(6)} p ${num(l.progress).padStart(5)} travel ${l.travel ?? '·'} ${l.note}`;
}

/** Readable report: one line per sequence (with --explain its frames), then the error rates and the CPU figures. */
export function formatLivenessEval(r: LivenessEvalResult): string {
  const width = Math.max(...r.results.map((x) => path.basename(x.dir).length), 8);
  const rows = r.results.map((x) => {
    const wrong = (x.decision === 'accept') !== (x.label === BONA_FIDE);
    const row = `${wrong ? '✗' : ' '} ${x.label.padEnd(20)} ${path.basename(x.dir).padEnd(width)} ${x.challenge.padEnd(16)} ${x.decision.padEnd(6)} ${`${x.reason ?? ''}`.padEnd(22)} @${x.decidedAt}`.trimEnd();
    return x.trace ? [row, ...x.trace.map(explainLine)].join('\n') : row;
  });
  const bona = r.counts[BONA_FIDE] ?? 0;
  const lines = [
    ...rows,
    '',
    `BPCER ${pct(r.bpcer)} of ${bona} bona fide`,
    ...Object.entries(r.apcer).map(([label, v]) => `APCER ${label.padEnd(20)} ${pct(v)} of ${r.counts[label]}`),
  ];
  const c = r.cpu.completed;
  if (c) lines.push(`CPU per completed challenge: p50 ${c.p50Ms} ms, p90 ${c.p90Ms} ms, ${c.framesAnalysedP50} frames analysed, ${c.embeddedP50} analyses with an embedding, ${c.challenges} challenges`);
  lines.push(`${r.sequences} sequences in ${r.seconds} s`);
  return lines.join('\n');
}
