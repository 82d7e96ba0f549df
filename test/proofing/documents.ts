import { readFileSync } from 'node:fs';
import type { MrzContent } from '../../src/documents/compose.js';
import { composeMrz } from '../../src/documents/compose.js';
import { checkDigit } from '../../src/documents/index.js';
import { photograph, random, renderDocument } from '../../src/documents/synthetic.js';

const yymmdd = (d: Date) => d.toISOString().slice(2, 10).replace(/-/g, '');

/** The holder data of the synthetic passports: valid for five more years unless `expired`. */
export function passportContent(opts: { expired?: boolean; number?: string } = {}): MrzContent {
  const expiry = new Date(Date.now() + (opts.expired ? -400 : 5 * 365) * 86_400_000);
  return {
    documentCode: 'P',
    issuingState: 'GBR',
    surname: 'HILL',
    givenNames: 'KATIE ANN',
    documentNumber: opts.number ?? 'X1234567C',
    nationality: 'GBR',
    birthDate: '871025',
    sex: 'F',
    expiryDate: yymmdd(expiry),
    optional1: '',
  };
}

/**
 * A photo of a synthetic passport (src/documents/synthetic.ts) whose portrait is `portrait`: held nearly straight,
 * filling most of the picture, in good light. `brokenCheckDigit` prints a wrong birth-date check digit (a
 * numeric field, which the reader never repairs).
 */
export async function passportPhoto(portrait: string, opts: { expired?: boolean; brokenCheckDigit?: boolean; number?: string; seed?: number } = {}): Promise<Buffer> {
  const content = passportContent(opts);
  const mrz = composeMrz('TD3', content);
  if (opts.brokenCheckDigit) {
    // TD3 line 2: date of birth in 13–18, its check digit at 19.
    const right = Number(checkDigit(mrz[1]!.slice(13, 19)));
    mrz[1] = `${mrz[1]!.slice(0, 19)}${(right + 3) % 10}${mrz[1]!.slice(20)}`;
  }
  const rnd = random(opts.seed ?? 11);
  const { png } = await renderDocument('TD3', content, readFileSync(portrait), rnd, { mrz });
  return photograph(png, { quarterTurns: 0, angle: 1.5, shear: 0.02, fill: 0.85, size: 1400, blur: 0, glare: 0, noise: 4, jpegQuality: 88 }, rnd);
}
