import { lookupCountry } from './countries.js';
import type { FieldName } from './layouts.js';
import type { ParsedMrz } from './parse.js';

/**
 * The seed record's `document_data` fields read from an MRZ. Dates are ISO 8601 (YYYY-MM-DD); names as printed in
 * the MRZ (upper case, transliterated per ICAO Doc 9303 part 3); what the MRZ does not carry (date of issue) is null.
 */
export interface DocumentFields {
  full_name: string;
  first_name: string;
  middle_name: string | null;
  last_name: string;
  gender: 'M' | 'F' | 'X';
  nationality: string | null;
  nationality_iso: string | null;
  nationality_iso2: string | null;
  nationality_code: string;
  issuer: string | null;
  issuer_iso: string | null;
  issuer_iso2: string | null;
  issuer_code: string;
  dob: string | null;
  date_of_birth_day: number | null;
  date_of_birth_month: number | null;
  date_of_birth_year: number | null;
  age: number | null;
  expiry_date: string | null;
  expiry_day: number | null;
  expiry_month: number | null;
  expiry_year: number | null;
  expired: boolean | null;
  issued_date: string | null;
  document_number: string;
  personal_number: string | null;
  document_type: string;
  document_type_full: string;
  mrz_format: ParsedMrz['format'];
  mrz: string;
}

export type FieldConfidence = Record<keyof Omit<DocumentFields, 'mrz_format' | 'expired' | 'issued_date'>, number>;

/** What each field holds, in the record's order (the API's OpenAPI document is built from it). */
export const DOCUMENT_FIELD_DOCS: Record<keyof DocumentFields, { type: 'string' | 'integer' | 'boolean'; about: string }> = {
  full_name: { type: 'string', about: 'Given names then surname, as in the MRZ (A–Z, spaces).' },
  first_name: { type: 'string', about: 'The first given name.' },
  middle_name: { type: 'string', about: 'Further given names; null when there are none.' },
  last_name: { type: 'string', about: 'The primary identifier (surname).' },
  gender: { type: 'string', about: 'M, F or X (unspecified).' },
  nationality: { type: 'string', about: 'Nationality by name (ICAO code resolved; null for an unknown code).' },
  nationality_iso: { type: 'string', about: 'ISO 3166-1 alpha-3 of the nationality; null for ICAO codes that are no state (XXA stateless, UNO, …).' },
  nationality_iso2: { type: 'string', about: 'ISO 3166-1 alpha-2 of the nationality.' },
  nationality_code: { type: 'string', about: 'The nationality code as printed (ICAO Doc 9303 part 3: ISO alpha-3, or D, GBD, UNO, XXA, …).' },
  issuer: { type: 'string', about: 'Issuing state or organisation by name.' },
  issuer_iso: { type: 'string', about: 'ISO 3166-1 alpha-3 of the issuing state.' },
  issuer_iso2: { type: 'string', about: 'ISO 3166-1 alpha-2 of the issuing state.' },
  issuer_code: { type: 'string', about: 'The issuing state code as printed.' },
  dob: { type: 'string', about: 'Date of birth, YYYY-MM-DD (the century that puts it in the past).' },
  date_of_birth_day: { type: 'integer', about: 'Day of birth.' },
  date_of_birth_month: { type: 'integer', about: 'Month of birth.' },
  date_of_birth_year: { type: 'integer', about: 'Year of birth.' },
  age: { type: 'integer', about: 'Age in whole years today (UTC).' },
  expiry_date: { type: 'string', about: 'Date of expiry, YYYY-MM-DD.' },
  expiry_day: { type: 'integer', about: 'Day of expiry.' },
  expiry_month: { type: 'integer', about: 'Month of expiry.' },
  expiry_year: { type: 'integer', about: 'Year of expiry.' },
  expired: { type: 'boolean', about: 'The expiry date is before today (UTC); a document is valid through its expiry date.' },
  issued_date: { type: 'string', about: 'Date of issue: the MRZ does not carry it, so null.' },
  document_number: { type: 'string', about: 'Document number (a TD1 number longer than nine characters continues in the optional data).' },
  personal_number: { type: 'string', about: 'Personal number or optional data, where present.' },
  document_type: { type: 'string', about: 'Document code as printed: P…, I…, A…, C…, V….' },
  document_type_full: { type: 'string', about: 'Passport, Identity card, Residence permit, Visa, Crew member certificate or Travel document.' },
  mrz_format: { type: 'string', about: 'TD1, TD2, TD3, MRVA or MRVB (ICAO Doc 9303 parts 4–7).' },
  mrz: { type: 'string', about: 'The MRZ lines after look-alike corrections, joined by ^.' },
};

interface Ymd {
  year: number;
  month: number;
  day: number;
}

/** YYMMDD; the century is the one that puts a birth date in the past and an expiry date within 50 years of now. */
function readDate(raw: string | undefined, kind: 'birth' | 'expiry', now: Date): Ymd | null {
  if (!raw || !/^\d{6}$/.test(raw)) return null;
  const yy = Number(raw.slice(0, 2));
  const month = Number(raw.slice(2, 4));
  const day = Number(raw.slice(4, 6));
  const year0 = now.getUTCFullYear();
  let year = 2000 + yy;
  if (kind === 'birth' && year > year0) year -= 100;
  if (kind === 'expiry' && year > year0 + 50) year -= 100;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return { year, month, day };
}

const iso = (d: Ymd | null) => (d ? `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}` : null);

function ageOn(birth: Ymd | null, now: Date): number | null {
  if (!birth) return null;
  const m = now.getUTCMonth() + 1;
  const d = now.getUTCDate();
  return now.getUTCFullYear() - birth.year - (m < birth.month || (m === birth.month && d < birth.day) ? 1 : 0);
}

/** Document codes (ICAO Doc 9303 part 3/4–7): the first letter names the kind; issuers use the second freely. */
function documentTypeFull(code: string): string {
  const c = code.replace(/</g, '');
  if (c.startsWith('P')) return 'Passport';
  if (c.startsWith('V')) return 'Visa';
  if (c === 'AC') return 'Crew member certificate';
  if (c.startsWith('I')) return c === 'IR' ? 'Residence permit' : 'Identity card';
  if (c.startsWith('A')) return c === 'AR' ? 'Residence permit' : 'Identity card';
  if (c.startsWith('C')) return 'Identity card';
  return 'Travel document';
}

const words = (s: string) => s.replace(/<+/g, ' ').trim();

/** Fields of the record from a parsed MRZ, each with its confidence (0–1). */
export function documentFields(m: ParsedMrz, now: Date): { fields: DocumentFields; confidence: FieldConfidence } {
  const f = m.fields;
  const [surnameRaw = '', givenRaw = ''] = (f.names ?? '').replace(/<+$/, '').split('<<');
  const last = words(surnameRaw);
  const given = words(givenRaw).split(' ').filter(Boolean);
  const birth = readDate(f.birthDate, 'birth', now);
  const expiry = readDate(f.expiryDate, 'expiry', now);
  const today = iso({ year: now.getUTCFullYear(), month: now.getUTCMonth() + 1, day: now.getUTCDate() })!;
  const nationality = lookupCountry(f.nationality ?? '');
  const issuer = lookupCountry(f.issuingState ?? '');
  // A document number longer than nine characters continues in the optional data (TD1, Doc 9303 part 5, 4.2.4).
  let documentNumber = (f.documentNumber ?? '').replace(/<+$/, '');
  if (m.format === 'TD1' && m.lines[0]![14] === '<' && f.optional1) documentNumber += f.optional1.split('<')[0]!.slice(0, -1);
  const personal = m.format === 'TD3' ? words(f.optional1 ?? '') : words([f.optional1, f.optional2].filter(Boolean).join('<'));
  const sex = f.sex === 'M' || f.sex === 'F' ? f.sex : 'X';
  const fields: DocumentFields = {
    full_name: [...given, last].filter(Boolean).join(' '),
    first_name: given[0] ?? '',
    middle_name: given.length > 1 ? given.slice(1).join(' ') : null,
    last_name: last,
    gender: sex,
    nationality: nationality?.name ?? null,
    nationality_iso: nationality?.iso3 ?? null,
    nationality_iso2: nationality?.iso2 ?? null,
    nationality_code: (f.nationality ?? '').replace(/</g, ''),
    issuer: issuer?.name ?? null,
    issuer_iso: issuer?.iso3 ?? null,
    issuer_iso2: issuer?.iso2 ?? null,
    issuer_code: (f.issuingState ?? '').replace(/</g, ''),
    dob: iso(birth),
    date_of_birth_day: birth?.day ?? null,
    date_of_birth_month: birth?.month ?? null,
    date_of_birth_year: birth?.year ?? null,
    age: ageOn(birth, now),
    expiry_date: iso(expiry),
    expiry_day: expiry?.day ?? null,
    expiry_month: expiry?.month ?? null,
    expiry_year: expiry?.year ?? null,
    // A document is valid through its expiry date.
    expired: expiry ? iso(expiry)! < today : null,
    issued_date: null,
    document_number: documentNumber,
    personal_number: personal || null,
    document_type: (f.documentCode ?? '').replace(/</g, ''),
    document_type_full: documentTypeFull(f.documentCode ?? ''),
    mrz_format: m.format,
    mrz: m.lines.join('^'),
  };
  const c = (name: FieldName, known = true) => (known ? (m.confidence[name] ?? 0) : 0);
  const mrzConfidence = Math.min(...Object.values(m.confidence));
  const confidence: FieldConfidence = {
    full_name: c('names'),
    first_name: c('names', given.length > 0),
    middle_name: c('names', given.length > 1),
    last_name: c('names'),
    gender: c('sex'),
    nationality: c('nationality', nationality !== null),
    nationality_iso: c('nationality', nationality?.iso3 != null),
    nationality_iso2: c('nationality', nationality?.iso2 != null),
    nationality_code: c('nationality'),
    issuer: c('issuingState', issuer !== null),
    issuer_iso: c('issuingState', issuer?.iso3 != null),
    issuer_iso2: c('issuingState', issuer?.iso2 != null),
    issuer_code: c('issuingState'),
    dob: c('birthDate', birth !== null),
    date_of_birth_day: c('birthDate', birth !== null),
    date_of_birth_month: c('birthDate', birth !== null),
    date_of_birth_year: c('birthDate', birth !== null),
    age: c('birthDate', birth !== null),
    expiry_date: c('expiryDate', expiry !== null),
    expiry_day: c('expiryDate', expiry !== null),
    expiry_month: c('expiryDate', expiry !== null),
    expiry_year: c('expiryDate', expiry !== null),
    document_number: c('documentNumber'),
    personal_number: c('optional1', personal.length > 0),
    document_type: c('documentCode'),
    document_type_full: c('documentCode'),
    mrz: Math.round(mrzConfidence * 1000) / 1000,
  };
  return { fields, confidence };
}
