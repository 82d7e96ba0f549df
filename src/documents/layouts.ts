/**
 * Where each field sits in the machine-readable zone of each ICAO Doc 9303 format (parts 4–7), 0-based
 * [line, start, end) ranges.
 */

export type MrzFormat = 'TD1' | 'TD2' | 'TD3' | 'MRVA' | 'MRVB';

export type FieldName =
  | 'documentCode'
  | 'issuingState'
  | 'names'
  | 'documentNumber'
  | 'nationality'
  | 'birthDate'
  | 'sex'
  | 'expiryDate'
  | 'optional1'
  | 'optional2';

/** What characters a field may hold, which decides the look-alike corrections applied to it. */
export type FieldKind = 'alpha' | 'numeric' | 'alnum' | 'sex';

export interface Span {
  line: number;
  start: number;
  end: number;
}

export interface FieldSpec {
  kind: FieldKind;
  at: Span;
}

export interface CheckSpec {
  /** The field it guards, or 'composite'. */
  name: 'documentNumber' | 'birthDate' | 'expiryDate' | 'optional1' | 'composite';
  /** The spans it covers, in order. */
  covers: Span[];
  digit: Span;
  /** A personal-number check digit may be `<` when the field is empty (TD3). */
  optionalWhenEmpty?: boolean;
}

export interface Layout {
  format: MrzFormat;
  lines: number;
  length: number;
  fields: Partial<Record<FieldName, FieldSpec>> & Record<'documentCode' | 'issuingState' | 'names' | 'documentNumber' | 'nationality' | 'birthDate' | 'sex' | 'expiryDate', FieldSpec>;
  checks: CheckSpec[];
}

const s = (line: number, start: number, end: number): Span => ({ line, start, end });

/** The two-line formats share line 2's first 28 characters. */
function twoLine(format: MrzFormat, length: 36 | 44, composite: boolean): Layout {
  const optionalEnd = composite ? length - 1 : length;
  const td3 = format === 'TD3';
  const fields: Layout['fields'] = {
    documentCode: { kind: 'alpha', at: s(0, 0, 2) },
    issuingState: { kind: 'alpha', at: s(0, 2, 5) },
    names: { kind: 'alpha', at: s(0, 5, length) },
    documentNumber: { kind: 'alnum', at: s(1, 0, 9) },
    nationality: { kind: 'alpha', at: s(1, 10, 13) },
    birthDate: { kind: 'numeric', at: s(1, 13, 19) },
    sex: { kind: 'sex', at: s(1, 20, 21) },
    expiryDate: { kind: 'numeric', at: s(1, 21, 27) },
    // TD3's personal number has its own check digit; the other formats' optional data has none.
    optional1: { kind: 'alnum', at: s(1, 28, td3 ? 42 : optionalEnd) },
  };
  const checks: CheckSpec[] = [
    { name: 'documentNumber', covers: [s(1, 0, 9)], digit: s(1, 9, 10) },
    { name: 'birthDate', covers: [s(1, 13, 19)], digit: s(1, 19, 20) },
    { name: 'expiryDate', covers: [s(1, 21, 27)], digit: s(1, 27, 28) },
  ];
  if (td3) checks.push({ name: 'optional1', covers: [s(1, 28, 42)], digit: s(1, 42, 43), optionalWhenEmpty: true });
  if (composite) checks.push({ name: 'composite', covers: [s(1, 0, 10), s(1, 13, 20), s(1, 21, length - 1)], digit: s(1, length - 1, length) });
  return { format, lines: 2, length, fields, checks };
}

const TD1: Layout = {
  format: 'TD1',
  lines: 3,
  length: 30,
  fields: {
    documentCode: { kind: 'alpha', at: s(0, 0, 2) },
    issuingState: { kind: 'alpha', at: s(0, 2, 5) },
    documentNumber: { kind: 'alnum', at: s(0, 5, 14) },
    optional1: { kind: 'alnum', at: s(0, 15, 30) },
    birthDate: { kind: 'numeric', at: s(1, 0, 6) },
    sex: { kind: 'sex', at: s(1, 7, 8) },
    expiryDate: { kind: 'numeric', at: s(1, 8, 14) },
    nationality: { kind: 'alpha', at: s(1, 15, 18) },
    optional2: { kind: 'alnum', at: s(1, 18, 29) },
    names: { kind: 'alpha', at: s(2, 0, 30) },
  },
  checks: [
    { name: 'documentNumber', covers: [s(0, 5, 14)], digit: s(0, 14, 15) },
    { name: 'birthDate', covers: [s(1, 0, 6)], digit: s(1, 6, 7) },
    { name: 'expiryDate', covers: [s(1, 8, 14)], digit: s(1, 14, 15) },
    { name: 'composite', covers: [s(0, 5, 30), s(1, 0, 7), s(1, 8, 15), s(1, 18, 29)], digit: s(1, 29, 30) },
  ],
};

export const LAYOUTS: Record<MrzFormat, Layout> = {
  TD1,
  TD2: twoLine('TD2', 36, true),
  TD3: twoLine('TD3', 44, true),
  MRVA: twoLine('MRVA', 44, false),
  MRVB: twoLine('MRVB', 36, false),
};

/** The format of `lines` by their count, their length and (visas) the document code. */
export function layoutFor(lines: string[]): Layout | null {
  const visa = lines[0]?.[0] === 'V';
  if (lines.length === 3 && lines.every((l) => l.length === 30)) return TD1;
  if (lines.length !== 2 || lines[0]!.length !== lines[1]!.length) return null;
  if (lines[0]!.length === 44) return visa ? LAYOUTS.MRVA : LAYOUTS.TD3;
  if (lines[0]!.length === 36) return visa ? LAYOUTS.MRVB : LAYOUTS.TD2;
  return null;
}
