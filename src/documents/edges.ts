import type { MrzFormat } from './layouts.js';
import type { Placement, Upright } from './reader.js';

/**
 * Where the document's front lies, for its crop: the rectangle `w`×`h` centred on (cx, cy) of the photo after turning
 * it `rotation` degrees clockwise (the MRZ's placement) and then undoing a horizontal shear, u' = u − shear·v, (u, v)
 * from the centre, v down. A tilted camera shears the document's sides; its top and bottom stay along the MRZ.
 */
export interface FrontFrame {
  cx: number;
  cy: number;
  rotation: number;
  w: number;
  h: number;
  shear: number;
}

/** Which of the document's edges were found in the photo; the others are the MRZ estimate's. */
export interface EdgesFound {
  top: boolean;
  bottom: boolean;
  left: boolean;
  right: boolean;
}

/** Physical width of the document and of its MRZ lines (mm), and its height, per format (ICAO Doc 9303). */
const GEOMETRY = { TD1: [85.6, 54, 30], TD2: [105, 74, 36], TD3: [125, 88, 44], MRVA: [120, 80, 44], MRVB: [105, 74, 36] } as const;

/** The document's extent from the MRZ band alone: its length gives the scale, the format the proportions. */
export function estimateFront(p: Placement, format: MrzFormat): FrontFrame {
  const [docW, docH, chars] = GEOMETRY[format];
  // The MRZ lines span `chars` × 2.54 mm centred on the document, their band ends ~1 mm above its lower edge.
  const mmPx = p.length / (chars * 2.54);
  const w = docW * mmPx * 1.04;
  const h = docH * mmPx * 1.04;
  const rad = (-p.rotation * Math.PI) / 180;
  // Centre of the document: from the band's centre, up (in the upright frame) by half the document less the band's offset.
  const up = h / 2 - (p.height / 2 + 1.5 * mmPx);
  return { cx: p.cx + Math.sin(rad) * up, cy: p.cy - Math.cos(rad) * up, rotation: p.rotation, w, h, shear: 0 };
}

/** Maps a point of the frame (u right, v down, from its centre, before the shear is undone) to the photo. */
function toPhoto(f: FrontFrame, u: number, v: number): [number, number] {
  const r = (f.rotation * Math.PI) / 180;
  return [f.cx + u * Math.cos(r) + v * Math.sin(r), f.cy - u * Math.sin(r) + v * Math.cos(r)];
}

/** Share of the document's size searched on each side of an estimated edge. */
const WINDOW = 0.2;
/** Samples along the search region's longer side: enough for a 0.5 % step, cheap at any photo size. */
const GRID = 240;
/** Slopes (across per along) tried for the sides: a tilted camera's shear (the synthetic photos go to ±0.12). */
const SIDE_SLOPES = Array.from({ length: 9 }, (_, i) => (i - 4) * 0.04);
/** The top and bottom follow the MRZ's angle: a residual tilt of a degree or two is allowed for. */
const LEVEL_SLOPES = [-0.03, -0.015, 0, 0.015, 0.03];
/** Segments along an edge; a document's edge steps along all of them, a printed line or the portrait only along some. */
const SEGMENTS = 6;

/** The photo sampled (bilinear) on a grid of the frame, NaN outside the photo. `step` px of the photo per sample. */
function sample(grey: Upright, f: FrontFrame, cols: number, rows: number, step: number): Float32Array {
  const out = new Float32Array(cols * rows);
  const { raw, width, height } = grey;
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < cols; i++) {
      const [x, y] = toPhoto(f, (i - (cols - 1) / 2) * step, (j - (rows - 1) / 2) * step);
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= width || y0 + 1 >= height) {
        out[j * cols + i] = NaN;
        continue;
      }
      const ax = x - x0;
      const ay = y - y0;
      const o = y0 * width + x0;
      const top = raw[o]! * (1 - ax) + raw[o + 1]! * ax;
      const bottom = raw[o + width]! * (1 - ax) + raw[o + width + 1]! * ax;
      out[j * cols + i] = top * (1 - ay) + bottom * ay;
    }
  }
  return out;
}

/**
 * The best near-vertical step in `g` (`cols`×`rows`, row-major) around column `at`: a line x = x0 + slope·(row − mid)
 * over rows [r0, r1), with the document on the `inside` side (+1: larger x). Its contrast is the second smallest over
 * segments of (inside − outside), each side a strip `strip` samples wide, one sample off the line (the edge's blur). Returns
 * the line at the middle row and its contrast, with the median |contrast| of all lines tried as the window's noise.
 */
function bestStep(g: Float32Array, cols: number, rows: number, at: number, reach: number, r0: number, r1: number, inside: 1 | -1, slopes: readonly number[], strip: number): { x: number; slope: number; contrast: number; noise: number } | null {
  // Prefix sums along each row (NaN, outside the photo, counted apart), so a strip's mean costs two look-ups.
  const sum = new Float64Array((cols + 1) * (r1 - r0));
  const nan = new Uint16Array((cols + 1) * (r1 - r0));
  for (let r = r0; r < r1; r++) {
    const o = (r - r0) * (cols + 1);
    for (let x = 0; x < cols; x++) {
      const v = g[r * cols + x]!;
      const bad = Number.isNaN(v);
      sum[o + x + 1] = sum[o + x]! + (bad ? 0 : v);
      nan[o + x + 1] = nan[o + x]! + (bad ? 1 : 0);
    }
  }
  const mid = (rows - 1) / 2;
  const seg = (r1 - r0) / SEGMENTS;
  const segSum = new Float64Array(SEGMENTS);
  const segN = new Float64Array(SEGMENTS);
  const means: number[] = [];
  const all: number[] = [];
  let best: { x: number; slope: number; contrast: number } | null = null;
  for (const slope of slopes) {
    for (let x0 = Math.round(at - reach); x0 <= Math.round(at + reach); x0++) {
      segSum.fill(0);
      segN.fill(0);
      let outsidePhoto = 0;
      for (let r = r0; r < r1; r++) {
        const x = Math.round(x0 + slope * (r - mid));
        // Strips [x+1, x+strip] and [x−strip, x−1] as half-open prefix ranges.
        const a0 = x - strip;
        const b1 = x + strip + 1;
        if (a0 < 0 || b1 > cols) {
          outsidePhoto++;
          continue;
        }
        const o = (r - r0) * (cols + 1);
        if (nan[o + b1]! - nan[o + a0]! > 0) {
          outsidePhoto++;
          continue;
        }
        const right = sum[o + b1]! - sum[o + x + 1]!;
        const left = sum[o + x]! - sum[o + a0]!;
        const s = Math.min(SEGMENTS - 1, Math.floor((r - r0) / seg));
        segSum[s]! += (inside * (right - left)) / strip;
        segN[s]!++;
      }
      // An edge that lies mostly outside the photo (the document cut by its border) is not seen.
      if (outsidePhoto > (r1 - r0) / 3) continue;
      means.length = 0;
      for (let s = 0; s < SEGMENTS; s++) if (segN[s]! > 0) means.push(segSum[s]! / segN[s]!);
      if (means.length < SEGMENTS / 2) continue;
      // The second weakest segment: a document's edge steps along all of them (one may be lost to glare or a finger),
      // a portrait's side or a printed line along some.
      means.sort((a, b) => a - b);
      const contrast = means[1]!;
      all.push(Math.abs(contrast));
      if (!best || contrast > best.contrast) best = { x: x0, slope, contrast };
    }
  }
  if (!best) return null;
  all.sort((a, b) => a - b);
  return { ...best, noise: all[Math.floor(all.length / 2)]! };
}

/**
 * Grey levels (of 255) a document's edge must step by, in its second weakest segment. Measured on synthetic photos:
 * the page against its background stepped by 31–56 (the weakest 12 of 196 edges); on a background as light as the
 * page, where no edge shows, print inside it (a portrait's side, a bold title) reached 18.
 */
const MIN_CONTRAST = 24;
/** And how many times the window's median step. */
const MIN_SNR = 3;
/** Share of the document's size left outside a found edge. */
const MARGIN = 0.005;

/**
 * The document's front from its edges where they are visible: around each edge of the MRZ estimate (±20 % of the
 * document's size), the strongest step from a brighter document to its background that holds along the edge.
 * A data page is lighter than most tables and hands; an edge whose step is not clearly above the window's noise
 * (a background as light as the page, the document cut by the photo's border) keeps the estimate's.
 */
export function findEdges(grey: Upright, est: FrontFrame, band: Placement): { frame: FrontFrame; found: EdgesFound } {
  const spanW = est.w * (1 + 2 * WINDOW);
  const spanH = est.h * (1 + 2 * WINDOW);
  const step = Math.max(spanW, spanH) / GRID;
  const cols = Math.round(spanW / step);
  const rows = Math.round(spanH / step);
  const g = sample(grey, est, cols, rows, step);
  // The same grid turned a quarter, so the top and bottom are searched as columns too.
  const t = new Float32Array(cols * rows);
  for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) t[i * rows + j] = g[j * cols + i]!;
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  const halfW = est.w / 2 / step;
  const halfH = est.h / 2 / step;
  const strip = Math.max(2, Math.round(0.012 * Math.max(halfW, halfH) * 2));
  // Search each side along its central 80 %: the corners are rounded, and the neighbouring edges' windows lie there.
  const accept = (s: ReturnType<typeof bestStep>) => (s && s.contrast >= MIN_CONTRAST && s.contrast >= MIN_SNR * s.noise ? s : null);
  const left = accept(bestStep(g, cols, rows, cx - halfW, WINDOW * 2 * halfW, Math.round(cy - 0.8 * halfH), Math.round(cy + 0.8 * halfH), 1, SIDE_SLOPES, strip));
  const right = accept(bestStep(g, cols, rows, cx + halfW, WINDOW * 2 * halfW, Math.round(cy - 0.8 * halfH), Math.round(cy + 0.8 * halfH), -1, SIDE_SLOPES, strip));
  const top = accept(bestStep(t, rows, cols, cy - halfH, WINDOW * 2 * halfH, Math.round(cx - 0.8 * halfW), Math.round(cx + 0.8 * halfW), 1, LEVEL_SLOPES, strip));
  // The bottom edge lies below the MRZ, whose lines step from the page to dark print as strongly as an edge does: its
  // window starts at the band's lower side (in the frame, from the centre: the band centre's v plus half its height).
  const r = (est.rotation * Math.PI) / 180;
  const bandBottom = ((band.cx - est.cx) * Math.sin(r) + (band.cy - est.cy) * Math.cos(r) + band.height / 2) / step + cy;
  const bottomFrom = Math.max(cy + halfH - WINDOW * 2 * halfH, bandBottom + strip);
  const bottomTo = cy + halfH + WINDOW * 2 * halfH;
  const bottom = accept(bestStep(t, rows, cols, (bottomFrom + bottomTo) / 2, (bottomTo - bottomFrom) / 2, Math.round(cx - 0.8 * halfW), Math.round(cx + 0.8 * halfW), -1, LEVEL_SLOPES, strip));
  // Edges in frame pixels from the centre, a found one moved out by MARGIN so that a pixel's error does not cut the
  // page's border; the estimate's where none was found.
  const mw = MARGIN * est.w;
  const mh = MARGIN * est.h;
  const l = left ? (left.x - cx) * step - mw : -est.w / 2;
  const rt = right ? (right.x - cx) * step + mw : est.w / 2;
  const tp = top ? (top.x - cy) * step - mh : -est.h / 2;
  const b = bottom ? (bottom.x - cy) * step + mh : est.h / 2;
  const slopes = [left, right].filter((s) => s !== null).map((s) => s.slope);
  const shear = slopes.length ? slopes.reduce((a, s) => a + s, 0) / slopes.length : 0;
  const [ncx, ncy] = toPhoto(est, (l + rt) / 2 + (shear * (tp + b)) / 2, (tp + b) / 2);
  return { frame: { cx: ncx, cy: ncy, rotation: est.rotation, w: rt - l, h: b - tp, shear }, found: { top: !!top, bottom: !!bottom, left: !!left, right: !!right } };
}
