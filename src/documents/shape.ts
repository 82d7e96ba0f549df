import type { TextLine } from './recognise.js';

/** Lengths of MRZ lines: TD1 30, TD2 and MRV-B 36, TD3 and MRV-A 44 (ICAO Doc 9303). */
const LENGTHS = [30, 36, 44] as const;

/** How sure the recogniser is of characters this step invented or moved. */
const FIXED_CONFIDENCE = 0.3;

/** Pads or trims a line to `length` in its longest filler run (where a misread filler count is most likely). */
function fitLine(line: TextLine, length: number): TextLine {
  let { text, confidence } = line;
  while (text.length !== length) {
    const runs = [...text.matchAll(/<+/g)].sort((a, b) => b[0].length - a[0].length);
    const at = runs[0] ? runs[0].index! + runs[0][0].length : text.length;
    if (text.length < length) {
      text = text.slice(0, at) + '<' + text.slice(at);
      confidence = [...confidence.slice(0, at), FIXED_CONFIDENCE, ...confidence.slice(at)];
    } else {
      const cut = runs[0] ? at - 1 : text.length - 1;
      text = text.slice(0, cut) + text.slice(cut + 1);
      confidence = [...confidence.slice(0, cut), ...confidence.slice(cut + 1)];
    }
  }
  return { text, confidence };
}

/**
 * The ways a line may have come out too long: a mark beside the zone read as characters at either end (the edge of
 * the document, a fold), a filler run read one `<` too long, or, one character too long, a stroke read as a
 * character of its own anywhere in the line (small print: `PNDS0` read `PND5S0`). Each variant cut to `length`;
 * the caller's check digits and codes tell them apart.
 */
function lineVariants(line: TextLine, length: number): TextLine[] {
  const extra = line.text.length - length;
  const variants = [fitLine(line, length)];
  if (extra > 0) {
    variants.push(fitLine({ text: line.text.slice(extra), confidence: line.confidence.slice(extra) }, length));
    variants.push(fitLine({ text: line.text.slice(0, length), confidence: line.confidence.slice(0, length) }, length));
  }
  if (extra === 1) {
    for (let at = 1; at < length; at++) variants.push({ text: line.text.slice(0, at) + line.text.slice(at + 1), confidence: [...line.confidence.slice(0, at), ...line.confidence.slice(at + 1)] });
  }
  return variants.filter((v, i) => variants.findIndex((w) => w.text === v.text) === i);
}

export interface ShapedMrz {
  lines: string[];
  confidence: number[][];
}

/**
 * Every way the recognised lines can form an MRZ: two or three lines of about one of the MRZ lengths (within three
 * characters), each line cut to that length in the ways `lineVariants` allows. The caller keeps the one whose check
 * digits and codes hold best. Empty when no set of lines has an MRZ's shape.
 */
export function shapeMrzVariants(lines: TextLine[]): ShapedMrz[] {
  const first = shapeMrz(lines);
  if (!first) return [];
  const length = first.lines[0]!.length;
  const source = first.source;
  let out: TextLine[][] = [[]];
  for (const line of source) out = out.flatMap((prefix) => lineVariants(line, length).map((v) => [...prefix, v]));
  return out.map((group) => ({ lines: group.map((l) => l.text), confidence: group.map((l) => l.confidence) }));
}

/**
 * The recognised lines that form an MRZ (two or three lines of about one of the MRZ lengths, within three
 * characters, the longest such set), cut to that length; null when none do.
 */
export function shapeMrz(lines: TextLine[]): (ShapedMrz & { source: TextLine[] }) | null {
  const candidates = lines.map((l) => ({ text: l.text.replace(/[^A-Z0-9<]/g, ''), confidence: l.confidence })).filter((l) => l.text.length >= 26);
  for (const count of [3, 2]) {
    for (let i = 0; i + count <= candidates.length; i++) {
      const group = candidates.slice(i, i + count);
      const mean = group.reduce((s, l) => s + l.text.length, 0) / count;
      const length = LENGTHS.reduce((best, n) => (Math.abs(n - mean) < Math.abs(best - mean) ? n : best));
      if ((count === 3) !== (length === 30)) continue;
      if (group.some((l) => Math.abs(l.text.length - length) > 3)) continue;
      const fitted = group.map((l) => fitLine(l, length));
      return { lines: fitted.map((l) => l.text), confidence: fitted.map((l) => l.confidence), source: group };
    }
  }
  return null;
}
