import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES, formatLivenessEval, type LivenessEvalResult } from '../../src/challenge/index.js';
import { createFaceEngine } from '../../src/face/index.js';
import { MODELS_DIR, REPO, requireSharedFaces, SHARED_FACES } from '../face/helpers.js';
import { buildLivenessSet, LABELS, type Label, type SetEntry } from '../helpers/liveness-set/index.js';
import { runCli } from '../helpers/server.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'liveness-eval-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('face-oidc liveness-eval input', () => {
  it('needs --sequences', async () => {
    const r = await runCli(['liveness-eval'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sequences is required');
  });

  it('names the bad line of a sequences file', async () => {
    const file = path.join(dir, 'bad.tsv');
    await writeFile(file, `# comment\n${dir}\tleft,left\tbona_fide\t6\n`);
    const r = await runCli(['liveness-eval', '--sequences', file, '--json'], {});
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).message).toMatch(/bad\.tsv:2: a challenge never repeats a movement twice in a row/);
    await writeFile(file, `${dir}\tleft\tbona_fide\n`);
    expect((await runCli(['liveness-eval', '--sequences', file], {})).stderr).toMatch(/bad\.tsv:1: expected dir<TAB>challenge<TAB>label<TAB>fps/);
    await writeFile(file, `${dir}\tleft\tbona_fide\t6\n`);
    expect((await runCli(['liveness-eval', '--sequences', file], {})).stderr).toContain('has no JPEG frames');
  });
});

describe('the readable liveness-eval report', () => {
  it('marks the wrong decisions and prints BPCER, APCER per species and the CPU per completed challenge', () => {
    const row = (dir: string, label: string, decision: 'accept' | 'reject', reason: string | null) => ({ dir: `/x/${dir}`, challenge: 'left,up', label, fps: 6, frames: 30, accepted: 20, decision, reason, completed: [], decidedAt: 12, analysed: { turn: 3, locate: 19, verify: 2 }, cpuMs: 200 });
    const text = formatLivenessEval({
      sequences: 3,
      counts: { bona_fide: 2, static_photo: 1 },
      bpcer: 0.5,
      apcer: { static_photo: 0 },
      cpu: { completed: { challenges: 1, p50Ms: 200, p90Ms: 200, framesAnalysedP50: 20, embeddedP50: 5 }, all: { challenges: 3, p50Ms: 200, p90Ms: 200, framesAnalysedP50: 20, embeddedP50: 5 } },
      results: [row('a', 'bona_fide', 'accept', null), row('b', 'bona_fide', 'reject', 'NO_RETURN'), row('c', 'static_photo', 'reject', 'TARGET_NOT_REACHED')],
      seconds: 1.5,
    });
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('✗'))).toEqual([expect.stringMatching(/^✗ bona_fide +b +left,up +reject NO_RETURN +@12$/)]);
    expect(text).toContain('BPCER 50.0 % of 2 bona fide');
    expect(text).toMatch(/APCER static_photo +0\.0 % of 1/);
    expect(text).toContain('CPU per completed challenge: p50 200 ms, p90 200 ms, 20 frames analysed, 5 analyses with an embedding, 1 challenges');
  });
});

/** One error target of the evaluation set: a species (optionally part of it) and the largest error rate allowed. */
interface Target {
  label: Label;
  /** Part of the species this row is about; the whole species without it. */
  part?: { name: string; has: (e: SetEntry) => boolean };
  /** BPCER for `bona_fide`, APCER for an attack species. */
  max: number;
  /**
   * Set on a row that the verifier still misses: the test runs as skipped, the reason and today's figure in its
   * name (issue 19); delete the field to enforce the row.
   */
  awaits?: string;
}

/** The talking-head clips of shared/faces/motion, the bona fide answers of the original set. */
const TALKING_HEADS = new Set(['liveportrait-d3', 'sadtalker-katiehill']);

/** Issue 19's targets, every species of the set (BPCER ≤ 5 %; APCER 0 %, ≤ 25 % for a re-ordered recording). */
const TARGETS: Target[] = [
  { label: 'bona_fide', max: 0.05, awaits: 'issue 19: 40.7 % of the answers are refused, all cut from the turning GIFs (TARGET_NOT_REACHED: a movement with one picture between rest and peak; NO_RETURN: the window ends before a second final look; IDENTITY_CHANGED: a cap put on mid-turn)' },
  { label: 'bona_fide', part: { name: 'talking-head clips', has: (e) => TALKING_HEADS.has(e.source) }, max: 0.05 },
  // Today's figures, guarded until the targets above are met: a change that refuses more people or passes more
  // attacks fails here.
  { label: 'bona_fide', part: { name: 'turning recordings, today', has: (e) => !TALKING_HEADS.has(e.source) }, max: 22 / 36 },
  { label: 'challenge_mismatch', part: { name: 'today', has: () => true }, max: 2 / 18 },
  { label: 'reordered_recording', part: { name: 'today', has: () => true }, max: 5 / 14 },
  { label: 'static_photo', max: 0 },
  { label: 'planar_warp', max: 0 },
  { label: 'photo_animation', max: 0 },
  { label: 'challenge_mismatch', max: 0, awaits: 'issue 19: 2 of 18 pass (a talking head whose 15° sway reaches the side target both ways; a diagonal read as both movements)' },
  // New species of issue 19.
  { label: 'posed_photos', max: 0 },
  { label: 'resaved_stills', max: 0 },
  { label: 'reordered_recording', max: 0.25, awaits: 'issue 19: 5 of 14 cut and re-ordered recordings pass' },
];

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

describe.runIf(requireSharedFaces())('liveness-eval on the set built from shared/faces', () => {
  let entries: SetEntry[];
  let result: LivenessEvalResult;

  beforeAll(async () => {
    const engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1 });
    try {
      const set = await buildLivenessSet(SHARED_FACES!, path.join(dir, 'set'), engine, REPO);
      entries = set.entries;
      // The CLI as an operator runs it, with the verifier of the live path.
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, 'dist/cli/main.js'), 'liveness-eval', '--sequences', set.file, '--json'], {
        env: { ...process.env, FACE_WORKERS: '2', LOG_LEVEL: 'warn' },
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      result = JSON.parse(stdout) as LivenessEvalResult;
    } finally {
      await engine.close();
    }
  }, 900_000);

  it('reports every sequence with its decision and reason, and the counts per label', () => {
    expect(result.sequences).toBe(entries.length);
    expect(result.results.map((r) => [r.dir, r.label, r.challenge])).toEqual(entries.map((e) => [e.dir, e.label, e.challenge]));
    for (const r of result.results) expect(r.decision === 'accept' ? r.reason === null : typeof r.reason === 'string').toBe(true);
    const counts: Record<string, number> = {};
    for (const e of entries) counts[e.label] = (counts[e.label] ?? 0) + 1;
    expect(result.counts).toEqual(counts);
    expect(Object.keys(result.apcer).sort()).toEqual(LABELS.filter((l) => l !== 'bona_fide').sort());
  });

  it('never repeats a frame within a sequence: a script re-saves every frame, a camera adds its noise', async () => {
    for (const e of entries) {
      const files = (await readdir(e.dir)).filter((f) => f.endsWith('.jpg'));
      const hashes = await Promise.all(files.map(async (f) => createHash('sha256').update(await readFile(path.join(e.dir, f))).digest('hex')));
      expect(new Set(hashes).size, e.dir).toBe(files.length);
    }
  });

  it('has a target for every species', () => {
    expect(new Set(TARGETS.filter((t) => !t.part).map((t) => t.label))).toEqual(new Set(LABELS));
  });

  for (const t of TARGETS) {
    const metric = t.label === 'bona_fide' ? 'BPCER' : 'APCER';
    const name = `${metric} ${t.label}${t.part ? ` (${t.part.name})` : ''} ≤ ${pct(t.max)}${t.awaits ? ` — awaits ${t.awaits}` : ''}`;
    (t.awaits ? it.skip : it)(name, () => {
      const rows = result.results.filter((r, i) => entries[i].label === t.label && (!t.part || t.part.has(entries[i])));
      expect(rows.length).toBeGreaterThan(0);
      const wrong = rows.filter((r) => (r.decision === 'accept') !== (r.label === 'bona_fide'));
      const rate = wrong.length / rows.length;
      // The whole species is the CLI's own figure.
      if (!t.part) expect(t.label === 'bona_fide' ? result.bpcer : result.apcer[t.label]).toBe(rate);
      expect(rate, wrong.map((r) => `${path.basename(r.dir)} ${r.challenge}: ${r.decision} ${r.reason}`).join('\n')).toBeLessThanOrEqual(t.max);
    });
  }

  it('embeds only the few frames that may decide a completed challenge', () => {
    // The talking-head answers: on the real turns, a verifier spent up to 13 such analyses on some accepted answers
    // (fsanet_webcam 15–45).
    const accepted = result.results.filter((r, i) => r.decision === 'accept' && r.label === 'bona_fide' && TALKING_HEADS.has(entries[i].source));
    expect(accepted.length).toBeGreaterThan(0);
    for (const r of accepted) {
      // At least one per step and one at the end; frames whose landmarks reach a target without the pose or the
      // 3-D checks confirming it cost one more; everything else is only located.
      const embedded = r.analysed.turn + r.analysed.verify;
      expect(embedded).toBeGreaterThanOrEqual(1 + r.completed.length + DEFAULT_RULES.finalFrames);
      expect(embedded).toBeLessThanOrEqual(1 + r.completed.length + 6);
      // Passive liveness only on the final looks.
      expect(r.analysed.verify).toBeGreaterThanOrEqual(DEFAULT_RULES.finalFrames);
      expect(r.analysed.verify).toBeLessThanOrEqual(DEFAULT_RULES.finalAttempts);
      expect(r.analysed.locate).toBeGreaterThan(embedded);
      expect(r.cpuMs).toBeGreaterThan(0);
    }
    expect(result.cpu.completed).toMatchObject({ challenges: result.results.filter((r) => r.decision === 'accept').length });
    expect(result.cpu.completed!.framesAnalysedP50).toBeGreaterThan(result.cpu.completed!.embeddedP50);
  });
});
