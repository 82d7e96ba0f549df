import sharp, { type Sharp } from 'sharp';
import { WORK_SIDE, type Band } from './locate.js';
import type { Grey } from './morphology.js';
import type { ParsedMrz } from './parse.js';
import type { Recogniser } from './recognise.js';
import { bestReading, rank, verdict, type Reading } from './choose.js';

/** Where the MRZ was found and how the document stands, in pixels of the upright (EXIF-rotated) photo. */
export interface Placement {
  cx: number;
  cy: number;
  /** Degrees to turn the photo (clockwise) to make the MRZ read left to right. */
  rotation: number;
  length: number;
  height: number;
}

export type LocateOutcome =
  /** Every check digit holds, its codes and dates are real ones and the lines read one way only (choose.ts). */
  | { kind: 'read'; mrz: ParsedMrz; placement: Placement; candidates: number }
  /**
   * An MRZ (at least two check digits hold) with a check digit that fails (misprinted, doctored or misread), or
   * whose checks hold but a code or date is no real one (see implausibleFields) or which reads two ways (`ambiguous`).
   */
  | { kind: 'checks_failed'; mrz: ParsedMrz; placement: Placement; candidates: number; ambiguous: boolean }
  /** Lines shaped like an MRZ whose check digits do not hold: too blurred, small or covered to read. */
  | { kind: 'unreadable'; mrz: ParsedMrz; placement: Placement; candidates: number; ambiguous: boolean }
  /** Nothing that reads as MRZ lines. */
  | { kind: 'none'; candidates: number };

/** Bands tried per photo, each upright and upside down. */
const MAX_BANDS = 4;

export interface Upright {
  raw: Buffer;
  width: number;
  height: number;
  /** 1 (grey) or 3 (sRGB). */
  channels: 1 | 3;
}

/**
 * The photo in grey, EXIF-rotated, as raw pixels; and a copy scaled to WORK_SIDE on its long side for finding the
 * band. Small photos are enlarged too: the search's windows are tuned to that size, and in a 600 px photo they
 * would be too small to join an MRZ line's characters (8–10 px wide there) or to keep them apart from the next line.
 */
export async function decodeGrey(image: Buffer, maxPixels: number): Promise<{ full: Upright; work: Grey; scale: number }> {
  const { data, info } = await sharp(image, { limitInputPixels: maxPixels, failOn: 'error' }).autoOrient().greyscale().raw().toBuffer({ resolveWithObject: true });
  const full: Upright = { raw: data, width: info.width, height: info.height, channels: 1 };
  const scale = WORK_SIDE / Math.max(info.width, info.height);
  const w = Math.max(1, Math.round(info.width * scale));
  const h = Math.max(1, Math.round(info.height * scale));
  const small = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).resize(w, h, { kernel: 'linear' }).toColourspace('b-w').raw().toBuffer();
  return { full, work: { data: new Uint8Array(small.buffer, small.byteOffset, small.length), width: w, height: h }, scale };
}

/**
 * The region of `full` centred on (cx, cy), `w`×`h` after turning it by `rotation` degrees clockwise, so that what
 * was tilted by that much stands upright, and then undoing a horizontal `shear` (x − shear·y: a document's sides
 * slanted by a tilted camera). Outside the photo is white.
 */
export async function uprightRegion(full: Upright, cx: number, cy: number, rotation: number, w: number, h: number, shear = 0): Promise<Sharp> {
  const side = Math.ceil(Math.hypot(w + Math.abs(shear) * h, h)) + 4;
  const left = Math.round(cx - side / 2);
  const top = Math.round(cy - side / 2);
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(full.width, left + side);
  const y1 = Math.min(full.height, top + side);
  const white = { r: 255, g: 255, b: 255, alpha: 1 };
  const space = full.channels === 1 ? 'b-w' : 'srgb';
  const channels = full.channels;
  let region: Buffer;
  if (x1 <= x0 || y1 <= y0) {
    region = await sharp({ create: { width: side, height: side, channels: 3, background: white } }).toColourspace(space).raw().toBuffer();
  } else {
    region = await sharp(full.raw, { raw: { width: full.width, height: full.height, channels } })
      .extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 })
      .extend({ left: x0 - left, top: y0 - top, right: left + side - x1, bottom: top + side - y1, background: white })
      .toColourspace(space)
      .raw()
      .toBuffer();
  }
  let turned = await sharp(region, { raw: { width: side, height: side, channels } }).rotate(rotation, { background: white }).toColourspace(space).raw().toBuffer({ resolveWithObject: true });
  // The shear maps the turned square onto its bounding box, whose centre is where the square's centre lands.
  if (shear !== 0) turned = await sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels } }).affine([1, -shear, 0, 1], { background: white }).toColourspace(space).raw().toBuffer({ resolveWithObject: true });
  const ow = Math.max(1, Math.min(turned.info.width, Math.round(w)));
  const oh = Math.max(1, Math.min(turned.info.height, Math.round(h)));
  return sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels } }).extract({
    left: Math.floor((turned.info.width - ow) / 2),
    top: Math.floor((turned.info.height - oh) / 2),
    width: ow,
    height: oh,
  });
}

/**
 * Line heights (px) the band is scaled to for the recogniser: the first for every band; the others, in turn, for the
 * best band when no reading of it held, since a misread at one scale is often read right at another.
 */
const LINE_HEIGHTS = [48, 72, 36] as const;

/**
 * The band, straightened and scaled so that a line of text is about `lineHeight` px high (sharp's default Lanczos
 * kernel), as a PNG for the recogniser. A tenth of its length is added at each end: the last character of a line
 * (a check digit) can stand apart from the component the band was measured on, and a cut one is read as `<`.
 */
async function bandCrop(full: Upright, band: Placement, lines: number, lineHeight: number = LINE_HEIGHTS[0]): Promise<Buffer> {
  const region = await uprightRegion(full, band.cx, band.cy, band.rotation, band.length * 1.2, band.height * 1.5 + 8);
  const targetH = Math.round((lines >= 2 ? lines * lineHeight : 2.5 * lineHeight) * 1.5);
  return region.resize({ height: targetH }).normalise().png({ compressionLevel: 1 }).toBuffer();
}

/**
 * Whether the band more likely reads upside down, from where its filler is: an MRZ's first line mostly ends in `<`
 * (short names) and its last line starts with the document number, and `<` carries less ink than a letter or digit.
 * Upright, the top line's right end is lighter than the bottom line's left end; upside down, the reverse. Only the
 * order of the two readings depends on it.
 */
async function looksUpsideDown(png: Buffer): Promise<boolean> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const ink = (x0: number, x1: number, y0: number, y1: number) => {
    let dark = 0;
    for (let y = Math.floor(y0); y < y1; y++) for (let x = Math.floor(x0); x < x1; x++) if (data[(y * info.width + x) * info.channels]! < 100) dark++;
    return dark;
  };
  const w = info.width;
  const h = info.height;
  return ink(0.8 * w, w, 0, h / 2) > ink(0, 0.2 * w, h / 2, h);
}

/** A band of the working image as a placement in the photo; `flip` turns it 180° more (it read upside down). */
export function toPlacement(band: Band, scale: number, flip: boolean): Placement {
  const deg = (band.angle * 180) / Math.PI;
  return { cx: band.cx / scale, cy: band.cy / scale, rotation: -deg + (flip ? 180 : 0), length: band.length / scale, height: band.height / scale };
}

/**
 * Finds the MRZ band (`locate`: locateBands, in a worker thread in the reader), recognises it upright and upside
 * down, and keeps the reading whose check digits hold best.
 */
export async function locateAndRead(full: Upright, work: Grey, scale: number, recogniser: Recogniser, locate: (work: Grey) => Promise<Band[]>): Promise<LocateOutcome> {
  const bands = (await locate(work)).slice(0, MAX_BANDS);
  const candidates = bands.length;
  // The best reading so far (a holder, so the closure's updates are seen by the type checker).
  const kept: { best: (Reading & { placement: Placement; lines: number }) | null } = { best: null };
  const read = async (png: Buffer, placement: Placement, lines: number): Promise<boolean> => {
    const reading = bestReading(await recogniser.recognise(png));
    if (!reading) return false;
    if (!kept.best || rank(reading) > rank(kept.best)) kept.best = { ...reading, placement, lines };
    return verdict(reading) === 'read';
  };
  for (const band of bands) {
    const upright = await bandCrop(full, toPlacement(band, scale, false), band.lines);
    const order = (await looksUpsideDown(upright)) ? [true, false] : [false, true];
    for (const flip of order) {
      const placement = toPlacement(band, scale, flip);
      if (await read(flip ? await bandCrop(full, placement, band.lines) : upright, placement, band.lines)) return { kind: 'read', mrz: kept.best!.mrz, placement, candidates };
    }
  }
  if (!kept.best) return { kind: 'none', candidates };
  const { placement, lines } = kept.best;
  for (const lineHeight of LINE_HEIGHTS.slice(1)) {
    if (await read(await bandCrop(full, placement, lines, lineHeight), placement, lines)) return { kind: 'read', mrz: kept.best.mrz, placement, candidates };
  }
  return { kind: verdict(kept.best), mrz: kept.best.mrz, placement: kept.best.placement, candidates, ambiguous: kept.best.ambiguous };
}
