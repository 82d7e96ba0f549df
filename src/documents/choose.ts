import { parseMrz, type ParsedMrz } from './parse.js';
import { implausibleFields } from './plausible.js';
import type { TextLine } from './recognise.js';
import { shapeMrzVariants } from './shape.js';

/** A parse of recognised lines, and whether another way of cutting them to length held as well. */
export interface Reading {
  mrz: ParsedMrz;
  /**
   * Two different cuts of the lines both hold every check digit: a document number's check digit and the composite
   * weigh its characters alike, so a character dropped from the number passes both one time in ten, and nothing
   * says which cut is the document's.
   */
  ambiguous: boolean;
}

const allChecksHold = (m: ParsedMrz) => m.checks.every((c) => c.valid) && implausibleFields(m).length === 0;

/**
 * A parse is an MRZ when most of its check digits hold: chance agreement of garbage is one in ten per digit. It is
 * read when every check digit holds, no field is one no document holds (see implausibleFields) and the reading is
 * not ambiguous.
 */
export function verdict(r: Reading): 'read' | 'checks_failed' | 'unreadable' {
  if (allChecksHold(r.mrz) && !r.ambiguous) return 'read';
  return r.mrz.checks.filter((c) => c.valid).length >= 2 ? 'checks_failed' : 'unreadable';
}

/**
 * How well a reading holds together: its check digits first, then whether its codes and dates are real ones (a
 * mark beside the zone read as a character shifts a line, which only these notice on lines without a check digit),
 * then the recogniser's confidence; an ambiguous one below the others that hold.
 */
export function rank(r: Reading): number {
  const m = r.mrz;
  const checks = m.checks.filter((c) => c.valid).length / m.checks.length;
  return 10 * checks - implausibleFields(m).length - (r.ambiguous ? 1 : 0) + Object.values(m.confidence).reduce((s, c) => s + c, 0) / 1000;
}

/** The best-ranked parse of every way the recognised lines can form an MRZ; null when none can. */
export function bestReading(text: TextLine[]): Reading | null {
  let best: ParsedMrz | null = null;
  const holding = new Set<string>();
  for (const shaped of shapeMrzVariants(text)) {
    const m = parseMrz(shaped.lines, shaped.confidence);
    if (!m) continue;
    if (allChecksHold(m)) holding.add(m.lines.join('^'));
    if (!best || rank({ mrz: m, ambiguous: false }) > rank({ mrz: best, ambiguous: false })) best = m;
  }
  return best && { mrz: best, ambiguous: holding.size > 1 };
}
