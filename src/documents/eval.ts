import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentReader } from './document-reader.js';
import { parseMrz } from './parse.js';
import type { Recogniser } from './recognise.js';

/** One line of a document list: `path<TAB>expected MRZ lines joined by ^`; empty: unknown; `-`: no document. */
export interface DocumentEntry {
  path: string;
  expected: string[] | null | 'none';
}

export async function readDocumentList(file: string): Promise<DocumentEntry[]> {
  const dir = path.dirname(path.resolve(file));
  const text = await readFile(file, 'utf8');
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((line, i) => {
      const [p, truth = ''] = line.split('\t');
      if (!p) throw new Error(`${file}:${i + 1}: expected path<TAB>MRZ`);
      const t = truth.trim();
      return { path: path.resolve(dir, p), expected: t === '-' ? 'none' : t === '' ? null : t.split('^') };
    });
}

const pct = (n: number, d: number) => (d ? Math.round((1000 * n) / d) / 10 : null);
const quantile = (xs: number[], q: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
};

export interface DocumentEvalResult {
  documents: number;
  without_document: number;
  mrz_found: number;
  mrz_found_pct: number | null;
  read_exactly: number;
  read_exactly_pct: number | null;
  /** Of documents with ground truth: how often each field of the reading equals the truth's. */
  field_accuracy: Record<string, number | null>;
  /** Images without a document on which an MRZ was claimed (read, checks failed or unreadable). */
  false_mrz: number;
  errors: { path: string; code: string }[];
  ms_p50: number | null;
  ms_p90: number | null;
  per_document: { path: string; status: string; exact: boolean | null; mrz: string | null; ms: number }[];
}

/** An MRZ was claimed: anything but not found (or an error). */
const claimed = (status: string) => status === 'read' || status === 'checks_failed' || status === 'unreadable';

const FIELDS = ['documentCode', 'issuingState', 'names', 'documentNumber', 'nationality', 'birthDate', 'sex', 'expiryDate'] as const;

/** Reads every image of the list and scores it against the truth (see DocumentEntry). */
export async function runDocumentEval(reader: DocumentReader, entries: DocumentEntry[]): Promise<DocumentEvalResult> {
  const docs = entries.filter((e) => e.expected !== 'none');
  const fieldHits: Record<string, [number, number]> = Object.fromEntries(FIELDS.map((f) => [f, [0, 0]]));
  const times: number[] = [];
  const per: DocumentEvalResult['per_document'] = [];
  const errors: DocumentEvalResult['errors'] = [];
  let found = 0;
  let exact = 0;
  let falseMrz = 0;
  for (const e of entries) {
    const start = performance.now();
    let status = 'error';
    let mrz: string | null = null;
    let ok: boolean | null = null;
    try {
      const r = await reader.read(await readFile(e.path));
      status = r.status;
      mrz = r.fields?.mrz ?? null;
    } catch (err) {
      errors.push({ path: e.path, code: (err as { code?: string }).code ?? 'ERROR' });
    }
    const ms = performance.now() - start;
    if (e.expected === 'none') {
      if (claimed(status)) falseMrz++;
    } else {
      times.push(ms);
      if (claimed(status)) found++;
      if (Array.isArray(e.expected)) {
        ok = status === 'read' && mrz === e.expected.join('^');
        const truth = parseMrz(e.expected);
        const got = mrz ? parseMrz(mrz.split('^')) : null;
        for (const f of FIELDS) {
          fieldHits[f]![1]++;
          if (got && truth && got.fields[f] === truth.fields[f]) fieldHits[f]![0]++;
        }
      } else {
        ok = status === 'read';
      }
      if (ok) exact++;
    }
    per.push({ path: e.path, status, exact: ok, mrz, ms: Math.round(ms) });
  }
  return {
    documents: docs.length,
    without_document: entries.length - docs.length,
    mrz_found: found,
    mrz_found_pct: pct(found, docs.length),
    read_exactly: exact,
    read_exactly_pct: pct(exact, docs.length),
    field_accuracy: Object.fromEntries(Object.entries(fieldHits).map(([f, [h, n]]) => [f, pct(h, n)])),
    false_mrz: falseMrz,
    errors,
    ms_p50: quantile(times, 0.5),
    ms_p90: quantile(times, 0.9),
    per_document: per,
  };
}

/** Single MRZ line crops (`*.tif`/`*.png` with `*.gt.txt` beside): how many the recogniser reads exactly. */
export async function runLineEval(recogniser: Recogniser, dir: string): Promise<{ lines: number; exact: number; exact_pct: number | null; characters: number; character_errors: number; ms_p50: number | null }> {
  const sharp = (await import('sharp')).default;
  const names = (await readdir(dir)).filter((f) => /\.(tif|png)$/.test(f));
  let lines = 0;
  let exact = 0;
  let chars = 0;
  let charErrors = 0;
  const times: number[] = [];
  for (const name of names) {
    let truth: string;
    try {
      truth = (await readFile(path.join(dir, name.replace(/\.(tif|png)$/, '.gt.txt')), 'utf8')).trim();
    } catch {
      continue;
    }
    const start = performance.now();
    const png = await sharp(path.join(dir, name)).greyscale().png().toBuffer();
    const text = (await recogniser.recognise(png)).map((l) => l.text).join('');
    times.push(performance.now() - start);
    lines++;
    if (text === truth) exact++;
    chars += truth.length;
    charErrors += editDistance(text, truth);
  }
  return { lines, exact, exact_pct: pct(exact, lines), characters: chars, character_errors: charErrors, ms_p50: quantile(times, 0.5) };
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
