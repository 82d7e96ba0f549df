import { checkDigit } from './check-digit.js';
import { LAYOUTS, type FieldName, type MrzFormat } from './layouts.js';

/** What an MRZ states, as a document issuer would encode it (upper-case A–Z, dates YYMMDD). */
export interface MrzContent {
  documentCode: string;
  issuingState: string;
  surname: string;
  givenNames: string;
  documentNumber: string;
  nationality: string;
  birthDate: string;
  sex: 'M' | 'F' | '<';
  expiryDate: string;
  optional1?: string;
  optional2?: string;
}

const mrzText = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, '<');

/** The MRZ lines of `content` in `format` with every check digit computed (ICAO Doc 9303 parts 4–7). */
export function composeMrz(format: MrzFormat, content: MrzContent): string[] {
  const layout = LAYOUTS[format];
  const lines = Array.from({ length: layout.lines }, () => Array<string>(layout.length).fill('<'));
  const put = (name: FieldName, value: string) => {
    const at = layout.fields[name];
    if (!at) return;
    const chars = value.slice(0, at.at.end - at.at.start);
    for (let i = 0; i < chars.length; i++) lines[at.at.line]![at.at.start + i] = chars[i]!;
  };
  put('documentCode', mrzText(content.documentCode));
  put('issuingState', content.issuingState);
  put('names', `${mrzText(content.surname)}<<${mrzText(content.givenNames)}`);
  put('documentNumber', mrzText(content.documentNumber));
  put('nationality', content.nationality);
  put('birthDate', content.birthDate);
  put('sex', content.sex);
  put('expiryDate', content.expiryDate);
  if (content.optional1) put('optional1', mrzText(content.optional1));
  if (content.optional2) put('optional2', mrzText(content.optional2));
  // Field check digits first: the composite covers them.
  for (const check of [...layout.checks].sort((a, b) => Number(a.name === 'composite') - Number(b.name === 'composite'))) {
    const data = check.covers.map((s) => lines[s.line]!.slice(s.start, s.end).join('')).join('');
    const empty = check.optionalWhenEmpty && /^<*$/.test(data);
    lines[check.digit.line]![check.digit.start] = empty ? '<' : checkDigit(data);
  }
  return lines.map((l) => l.join(''));
}
