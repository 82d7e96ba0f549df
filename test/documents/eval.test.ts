import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, appendFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSyntheticSet } from '../../src/documents/synthetic.js';
import { REPO, requireSharedFaces, SHARED_FACES } from '../face/helpers.js';
import { requireMrzLines, requireOcrFont, SHARED_MRZ_LINES } from './helpers.js';

const run = promisify(execFile);
const CLI = path.join(REPO, 'dist/cli/main.js');

/** `face-oidc document-eval … --json` as an operator runs it. */
async function documentEval(args: string[]): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any -- the CLI's JSON
  const { stdout } = await run(process.execPath, [CLI, 'document-eval', ...args, '--json'], { cwd: REPO, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LOG_LEVEL: 'silent' } });
  return JSON.parse(stdout);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Synthetic documents held out from development: development used deepface img1–img20 as portraits and seeds 1–2;
 * these use img31–img45 and seed 4242, with every format, any quarter turn, tilt, shear, blur, glare, noise, JPEG
 * and 600–4000 px; plus photos without any document (landscapes and face photos).
 */
describe.runIf(requireOcrFont() && requireSharedFaces())('document-eval on held-out synthetic documents', () => {
  it('finds and reads their MRZ, and claims none on photos without a document', { timeout: 1_800_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-docs-'));
    dirs.push(dir);
    const faces = Array.from({ length: 15 }, (_, i) => readFileSync(path.join(SHARED_FACES!, 'deepface', `img${31 + i}.jpg`)));
    const list = await buildSyntheticSet(faces, dir, { count: 40, nonDocuments: 6, seed: 4242 });
    for (const name of ['img50.jpg', 'img54.jpg', 'couple.jpg']) {
      copyFileSync(path.join(SHARED_FACES!, 'deepface', name), path.join(dir, name));
      appendFileSync(list, `${name}\t-\n`);
    }
    const r = await documentEval(['--documents', list]);
    console.info('document-eval (held-out synthetic):', JSON.stringify({ ...r, per_document: undefined }));
    expect(r.documents).toBe(40);
    expect(r.without_document).toBe(9);
    expect(r.false_mrz).toBe(0);
    expect(r.mrz_found_pct).toBeGreaterThanOrEqual(MIN_FOUND_PCT);
    expect(r.read_exactly_pct).toBeGreaterThanOrEqual(MIN_EXACT_PCT);
    for (const [field, pct] of Object.entries(r.field_accuracy)) expect(pct, field).toBeGreaterThanOrEqual(MIN_EXACT_PCT);
    // Read with every check holding, yet not the document's MRZ: worse than a miss, which at least goes to review.
    const wrong = r.per_document.filter((d: { status: string; exact: boolean | null }) => d.status === 'read' && d.exact === false);
    expect(wrong.length).toBeLessThanOrEqual(MAX_WRONG_READS);
    expect(r.errors).toEqual([]);
    expect(r.ms_p50).toBeGreaterThan(0);
    expect(r.ms_p90).toBeGreaterThanOrEqual(r.ms_p50);
  });
});

describe.runIf(requireMrzLines())('document-eval on MRZ line crops', () => {
  it('reads at least 95 % of the single-line crops exactly', { timeout: 900_000 }, async () => {
    const r = await documentEval(['--lines', SHARED_MRZ_LINES!]);
    console.info('document-eval (line crops):', JSON.stringify(r.line_crops));
    expect(r.line_crops.lines).toBeGreaterThanOrEqual(200);
    expect(r.line_crops.exact_pct).toBeGreaterThanOrEqual(95);
  });
});

/**
 * The targets (95 % found, 90 % read exactly), below what the held-out synthetic set reached when this was
 * written (100 % found, 95–97.5 % read exactly, fields 95–100 %, no wrong reading; src/documents/README.md): one
 * document is 2.5 %, and the set changes with the date (expiry dates are drawn from today).
 */
const MIN_FOUND_PCT = 95;
const MIN_EXACT_PCT = 90;
const MAX_WRONG_READS = 1;
