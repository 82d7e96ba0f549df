import { describe, expect, it } from 'vitest';
import { checkDigit, composeMrz, documentFields, lookupCountry, parseMrz, type MrzContent } from '../../src/documents/index.js';
import { bestReading, verdict } from '../../src/documents/choose.js';
import { implausibleFields } from '../../src/documents/plausible.js';
import { shapeMrz } from '../../src/documents/shape.js';

// ICAO Doc 9303 part 4, appendix A (TD3) and part 5 (TD1) specimens.
const TD3 = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];
const TD1 = ['I<UTOD231458907<<<<<<<<<<<<<<<', '7408122F1204159UTO<<<<<<<<<<<6', 'ERIKSSON<<ANNA<MARIA<<<<<<<<<<'];
const NOW = new Date('2026-12-07T00:00:00Z');

describe('check digits and parsing (ICAO Doc 9303)', () => {
  it('computes check digits with weights 7, 3, 1', () => {
    expect(checkDigit('L898902C3')).toBe('6');
    expect(checkDigit('740812')).toBe('2');
    expect(checkDigit('120415')).toBe('9');
    expect(checkDigit('<<<<<<')).toBe('0');
  });

  it('parses the TD3 and TD1 specimens with every check digit valid', () => {
    const p = parseMrz(TD3)!;
    expect(p.format).toBe('TD3');
    expect(p.checks.every((c) => c.valid)).toBe(true);
    expect(p.checks.map((c) => c.name)).toEqual(['documentNumber', 'birthDate', 'expiryDate', 'optional1', 'composite']);
    const t1 = parseMrz(TD1)!;
    expect(t1.format).toBe('TD1');
    expect(t1.checks.every((c) => c.valid)).toBe(true);
  });

  it('fills the record fields, with expiry against today and ISO codes', () => {
    const { fields, confidence } = documentFields(parseMrz(TD3)!, NOW);
    expect(fields).toMatchObject({
      full_name: 'ANNA MARIA ERIKSSON',
      first_name: 'ANNA',
      middle_name: 'MARIA',
      last_name: 'ERIKSSON',
      gender: 'F',
      dob: '1974-08-12',
      date_of_birth_year: 1974,
      age: 52,
      expiry_date: '2012-04-15',
      expired: true,
      document_number: 'L898902C3',
      personal_number: 'ZE184226B',
      document_type: 'P',
      document_type_full: 'Passport',
      issuer_code: 'UTO',
      issuer_iso: null,
      mrz: TD3.join('^'),
    });
    expect(confidence.document_number).toBe(1);
  });

  it('reads look-alikes by the field they stand in, and repairs a document number by its check digit', () => {
    const misread = ['P<UT0ERIKSS0N<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<', 'L8989O2C36UTO74O8122F12O4159ZE184226B<<<<<1O'];
    const p = parseMrz(misread)!;
    expect(p.lines).toEqual(TD3);
    expect(p.checks.every((c) => c.valid)).toBe(true);
    expect(p.corrections.length).toBe(7);
  });

  it('reports a doctored check digit instead of correcting it', () => {
    const doctored = [TD3[0]!, TD3[1]!.slice(0, 19) + '3' + TD3[1]!.slice(20)];
    const p = parseMrz(doctored)!;
    expect(p.checks.find((c) => c.name === 'birthDate')!.valid).toBe(false);
    expect(p.checks.find((c) => c.name === 'composite')!.valid).toBe(false);
    expect(p.confidence.birthDate).toBeLessThan(0.6);
  });

  it('composes every format with valid check digits, and parses it back', () => {
    const content: MrzContent = { documentCode: 'P', issuingState: 'D<<', surname: 'MUSTERMANN', givenNames: 'ERIKA', documentNumber: 'C01X00T47', nationality: 'D<<', birthDate: '640812', sex: 'F', expiryDate: '310630', optional1: '' };
    for (const format of ['TD1', 'TD2', 'TD3', 'MRVA', 'MRVB'] as const) {
      const lines = composeMrz(format, { ...content, documentCode: format.startsWith('MRV') ? 'V' : format === 'TD3' ? 'P' : 'ID' });
      const p = parseMrz(lines)!;
      expect(p.format, format).toBe(format);
      expect(p.checks.every((c) => c.valid), format).toBe(true);
      const { fields } = documentFields(p, NOW);
      expect(fields).toMatchObject({ last_name: 'MUSTERMANN', nationality: 'Germany', nationality_iso: 'DEU', nationality_iso2: 'DE', dob: '1964-08-12', expiry_date: '2031-06-30', expired: false });
    }
  });

  it("resolves ICAO's own codes", () => {
    expect(lookupCountry('D<<')).toMatchObject({ iso3: 'DEU', iso2: 'DE', name: 'Germany' });
    expect(lookupCountry('GBD')).toMatchObject({ iso3: 'GBR', iso2: 'GB' });
    expect(lookupCountry('XXA')).toMatchObject({ iso3: null, name: 'Stateless person' });
    expect(lookupCountry('UTO')).toMatchObject({ iso3: null });
    expect(lookupCountry('FRA')).toMatchObject({ iso3: 'FRA', iso2: 'FR', name: 'France' });
    expect(lookupCountry('QQQ')).toBeNull();
  });

  it('cuts recognised lines to the MRZ length in their filler', () => {
    const conf = (t: string) => ({ text: t, confidence: [...t].map(() => 0.9) });
    const shaped = shapeMrz([conf('P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<<<'), conf('L898902C36UTO7408122F1204159ZE184226B<<<<10')])!;
    expect(shaped.lines.map((l) => l.length)).toEqual([44, 44]);
    expect(parseMrz(shaped.lines)!.checks.every((c) => c.valid)).toBe(true);
    expect(shapeMrz([conf('HELLO WORLD')])).toBeNull();
  });

  it('undoes a character read twice when exactly one cut holds, and calls it ambiguous when several do', () => {
    const conf = (t: string) => ({ text: t, confidence: [...t].map(() => 0.9) });
    // A stroke read as a character of its own in the expiry date: trimming the filler cannot undo it.
    const once = bestReading([conf(TD3[0]!), conf('L898902C36UTO7408122F12041559ZE184226B<<<<<10')])!;
    expect(once.mrz.lines).toEqual(TD3);
    expect(verdict(once)).toBe('read');
    // In the document number several cuts hold: its check digit and the composite weigh its characters alike.
    const twice = bestReading([conf(TD3[0]!), conf('L8989025C36UTO7408122F1204159ZE184226B<<<<<10')])!;
    expect(twice.ambiguous).toBe(true);
    expect(verdict(twice)).toBe('checks_failed');
  });

  it('names fields no document holds: unknown document kind or state code, a date that is no day', () => {
    expect(implausibleFields(parseMrz(TD3)!)).toEqual([]);
    expect(implausibleFields(parseMrz(TD1)!)).toEqual([]);
    // Unknown day and month of birth (`<<`) are allowed.
    expect(implausibleFields(parseMrz([TD3[0]!, 'L898902C36UTO74<<<<2F1204159ZE184226B<<<<<10'])!)).toEqual([]);
    const misread = parseMrz(['P<UTQERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7413122F1204319ZE184226B<<<<<10'])!;
    expect(implausibleFields(misread)).toEqual(['issuingState', 'birthDate', 'expiryDate']);
    expect(implausibleFields(parseMrz(['X<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', TD3[1]!])!)).toEqual(['documentCode']);
  });

  it('takes a document number with a gap, or none, for a misread: fillers only follow the number', () => {
    const number = (n: string) => implausibleFields(parseMrz([TD3[0]!, `${n}6UTO7408122F1204159ZE184226B<<<<<10`])!);
    expect(number('L898902C<')).toEqual([]);
    // A TD1's long number: nine characters here, a filler for its check digit, the rest in the optional data.
    expect(implausibleFields(parseMrz(['I<UTOD23145890<7349<<<<<<<<<<<', TD1[1]!, TD1[2]!])!)).toEqual([]);
    expect(number('L8989<2C3')).toEqual(['documentNumber']);
    expect(number('<L898902C')).toEqual(['documentNumber']);
    expect(number('<<<<<<<<<')).toEqual(['documentNumber']);
  });
});
