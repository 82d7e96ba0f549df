import { lookupCountry } from './countries.js';
import type { ParsedMrz } from './parse.js';

/** YYMMDD that is a calendar day; `<` for an unknown day or month is allowed (ICAO Doc 9303 part 3, 4.2.2). */
function isDate(raw: string | undefined): boolean {
  if (!raw || !/^\d\d[\d<]{4}$/.test(raw)) return false;
  const month = raw.slice(2, 4);
  const day = raw.slice(4, 6);
  if (month === '<<') return day === '<<';
  const m = Number(month);
  if (!(m >= 1 && m <= 12)) return false;
  if (day === '<<') return true;
  const d = Number(day);
  // Any year: 29 February is allowed, the century being unknown.
  return d >= 1 && d <= [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/**
 * What in a reading no real document holds: a document code that is no ICAO kind, a document number with a gap or none
 * at all, a state code that is none, a date that is no calendar day. Check digits miss such misreads one time in ten each, and a visa has no composite check
 * digit to catch a second one, so a reading with any of these is not taken as read.
 */
export function implausibleFields(m: ParsedMrz): string[] {
  const bad: string[] = [];
  if (!/^[PIACV]/.test(m.fields.documentCode ?? '')) bad.push('documentCode');
  // The number fills its field from the left and fillers only follow it (Doc 9303 part 3, 4.2.2; a TD1's longer
  // number continues in the optional data): a character after a filler is a misread that shifted the line.
  if (!/^[A-Z0-9]+<*$/.test(m.fields.documentNumber ?? '')) bad.push('documentNumber');
  if (!lookupCountry(m.fields.issuingState ?? '')) bad.push('issuingState');
  if (!lookupCountry(m.fields.nationality ?? '')) bad.push('nationality');
  if (!isDate(m.fields.birthDate)) bad.push('birthDate');
  if (!isDate(m.fields.expiryDate)) bad.push('expiryDate');
  return bad;
}
