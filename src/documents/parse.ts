import { checkDigit } from './check-digit.js';
import { LAYOUTS, layoutFor, type CheckSpec, type FieldKind, type FieldName, type Layout, type MrzFormat, type Span } from './layouts.js';

/** One character the recogniser changed because its field cannot hold it (or a check digit pointed at it). */
export interface Correction {
  line: number;
  column: number;
  from: string;
  to: string;
}

export interface CheckResult {
  name: CheckSpec['name'];
  valid: boolean;
}

/** The MRZ after corrections, its checks, and a 0–1 confidence for each field. */
export interface ParsedMrz {
  format: MrzFormat;
  lines: string[];
  /** Raw field values (filler `<` kept) by name. */
  fields: Partial<Record<FieldName, string>>;
  checks: CheckResult[];
  corrections: Correction[];
  /** Per field: the recogniser's mean character confidence, raised where a check digit confirms it, lowered where one fails. */
  confidence: Partial<Record<FieldName, number>>;
}

// Look-alikes of OCR-B (ICAO Doc 9303 does not allow both readings in the same field).
const TO_DIGIT: Record<string, string> = { O: '0', Q: '0', D: '0', U: '0', I: '1', L: '1', T: '1', Z: '2', S: '5', G: '6', B: '8', A: '4' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '4': 'A', '5': 'S', '6': 'G', '8': 'B', '7': 'T' };
/** The ambiguous characters a failed check digit may be blamed on in an alphanumeric field. */
const SWAP: Record<string, string> = { O: '0', '0': 'O', D: '0', Q: '0', I: '1', '1': 'I', B: '8', '8': 'B', S: '5', '5': 'S', Z: '2', '2': 'Z', G: '6', '6': 'G' };

const slice = (lines: string[], s: Span) => lines[s.line]!.slice(s.start, s.end);

function replaceAt(lines: string[], line: number, column: number, c: string): void {
  const l = lines[line]!;
  lines[line] = l.slice(0, column) + c + l.slice(column + 1);
}

/** Letters in numeric fields and digits in alphabetic ones are read as their look-alikes. */
function correctKind(lines: string[], at: Span, kind: FieldKind, corrections: Correction[]): void {
  for (let col = at.start; col < at.end; col++) {
    const c = lines[at.line]![col]!;
    let to: string | undefined;
    if (kind === 'numeric' && c !== '<') to = TO_DIGIT[c];
    else if (kind === 'alpha') to = TO_LETTER[c];
    else if (kind === 'sex' && !'MFX<'.includes(c)) to = c === 'H' || c === 'N' ? 'M' : c === 'E' || c === 'P' ? 'F' : '<';
    if (to && to !== c) {
      replaceAt(lines, at.line, col, to);
      corrections.push({ line: at.line, column: col, from: c, to });
    }
  }
}

function checkPasses(lines: string[], check: CheckSpec): boolean {
  const data = check.covers.map((s) => slice(lines, s)).join('');
  const digit = slice(lines, check.digit);
  if (check.optionalWhenEmpty && digit === '<' && /^<*$/.test(data)) return true;
  return checkDigit(data) === digit;
}

/**
 * An alphanumeric field whose check digit fails: the one set of look-alike swaps (fewest changes, at most two) that
 * makes it pass, if exactly one does. A check digit is one in ten, so two candidates mean no evidence either way.
 */
function repairByCheckDigit(lines: string[], check: CheckSpec, corrections: Correction[]): void {
  const at = check.covers[0]!;
  const positions: number[] = [];
  for (let col = at.start; col < at.end; col++) if (SWAP[lines[at.line]![col]!]) positions.push(col);
  for (let changes = 1; changes <= Math.min(2, positions.length); changes++) {
    const found: number[][] = [];
    const pick = (from: number, chosen: number[]) => {
      if (chosen.length === changes) {
        const trial = [...lines];
        for (const col of chosen) replaceAt(trial, at.line, col, SWAP[trial[at.line]![col]!]!);
        if (checkPasses(trial, check)) found.push([...chosen]);
        return;
      }
      for (let i = from; i < positions.length; i++) pick(i + 1, [...chosen, positions[i]!]);
    };
    pick(0, []);
    if (found.length === 1) {
      for (const col of found[0]!) {
        const from = lines[at.line]![col]!;
        replaceAt(lines, at.line, col, SWAP[from]!);
        corrections.push({ line: at.line, column: col, from, to: SWAP[from]! });
      }
      return;
    }
    if (found.length > 1) return;
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Parses MRZ lines already cut to their format's length. `charConfidence[line][column]` (0–1) comes from the
 * recogniser; without it every character counts as 1.
 */
export function parseMrz(rawLines: string[], charConfidence?: number[][]): ParsedMrz | null {
  const layout = layoutFor(rawLines);
  if (!layout) return null;
  const lines = [...rawLines];
  const corrections: Correction[] = [];
  for (const spec of Object.values(layout.fields)) correctKind(lines, spec.at, spec.kind, corrections);
  for (const check of layout.checks) correctKind(lines, check.digit, 'numeric', corrections);
  for (const check of layout.checks) {
    if (check.name === 'documentNumber' && !checkPasses(lines, check)) repairByCheckDigit(lines, check, corrections);
  }
  const checks = layout.checks.map((c) => ({ name: c.name, valid: checkPasses(lines, c) }));
  const fields: ParsedMrz['fields'] = {};
  const confidence: ParsedMrz['confidence'] = {};
  const composite = checks.find((c) => c.name === 'composite');
  for (const [name, spec] of Object.entries(layout.fields) as [FieldName, Layout['fields'][FieldName]][]) {
    fields[name] = slice(lines, spec!.at);
    const at = spec!.at;
    const chars = charConfidence?.[at.line]?.slice(at.start, at.end) ?? [];
    const corrected = corrections.filter((c) => c.line === at.line && c.column >= at.start && c.column < at.end).length;
    let conf = charConfidence ? mean(chars) : 1;
    conf *= 0.9 ** corrected;
    const own = layout.checks.findIndex((c) => c.name === name || (name === 'optional1' && c.name === 'optional1'));
    const guarded = own >= 0 ? checks[own]! : null;
    // A misread that still passes a check digit has about one chance in ten; two checks (own and composite), one in a hundred.
    if (guarded) conf = guarded.valid ? 1 - (1 - conf) * (composite?.valid ? 0.01 : 0.1) : conf * 0.5;
    confidence[name] = Math.round(Math.max(0, Math.min(1, conf)) * 1000) / 1000;
  }
  return { format: layout.format, lines, fields, checks, corrections, confidence };
}

/** Expected line count and length per format, for cutting recognised text to shape. */
export const SHAPES: { lines: number; length: number }[] = [
  { lines: 2, length: 44 },
  { lines: 2, length: 36 },
  { lines: 3, length: 30 },
];

export { LAYOUTS };
