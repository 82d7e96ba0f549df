// Landmark geometry of the 68-point iBUG layout (0-based): nose offset, planar homographies, nose parallax.

import { meanPoint } from '../face/index.js';

export type Point = readonly [number, number];

const LEFT_EYE = [37, 38, 40, 41];
const RIGHT_EYE = [43, 44, 46, 47];
const NOSE_TIP = 30;
const MOUTH_CORNERS = [48, 54];
/** The face outline at the temples and ears (both sides), near the axis the head turns and nods about. */
const OUTLINE = [0, 1, 15, 16];
/** Brows and eyes: the face's flattest region, which a homography of the baseline frame should explain. */
export const FACE_PLANE = [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47];
/** Nose bridge, tip and nostrils: the points that stand out of that plane. */
export const NOSE = [27, 28, 29, 30, 31, 32, 33, 34, 35];


export interface EyeFrame {
  /** Midpoint of the two eye centres, pixels. */
  centre: [number, number];
  /** Inter-eye distance (eye centres), pixels. */
  iod: number;
}

export function eyeFrame(lm: readonly Point[]): EyeFrame {
  const l = meanPoint(lm, LEFT_EYE);
  const r = meanPoint(lm, RIGHT_EYE);
  return { centre: [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2], iod: Math.hypot(r[0] - l[0], r[1] - l[1]) };
}

/**
 * The nose tip's offset from the eye centre in inter-eye distances, along the image axes (x > 0: towards the
 * image's right, i.e. the person turned to their own left; y > 0: down). The same measure as the calibration
 * figures in README.md. A head tilted in the image plane shifts it too, which is why a step also needs fr_pose's
 * yaw or pitch and nose parallax, neither of which a tilt or a rotated photo produces.
 */
export function noseOffset(lm: readonly Point[]): { x: number; y: number } {
  const f = eyeFrame(lm);
  return { x: (lm[NOSE_TIP][0] - f.centre[0]) / f.iod, y: (lm[NOSE_TIP][1] - f.centre[1]) / f.iod };
}

/**
 * The eye centre's offset from the middle of the face outline at the temples, in inter-eye distances (image axes).
 * The eyes sit well in front of the axis a head turns and nods about, so when the whole head rotates they move
 * across its outline by about as much as the nose tip moves from the eyes; a picture whose nose and mouth are
 * pushed by a mesh warp, or a flat picture turned as a whole, leaves the eyes where they were on the outline.
 */
export function eyesOnOutline(lm: readonly Point[]): { x: number; y: number } {
  const f = eyeFrame(lm);
  const o = meanPoint(lm, OUTLINE);
  return { x: (f.centre[0] - o[0]) / f.iod, y: (f.centre[1] - o[1]) / f.iod };
}

/**
 * How far the mouth lies below the eyes, across the eye line, in inter-eye distances. A nod either way foreshortens
 * it by about cos(pitch): it keeps changing where the nose offset of a nod down levels off (past about 25°).
 */
export function mouthDrop(lm: readonly Point[]): number {
  const l = meanPoint(lm, LEFT_EYE);
  const r = meanPoint(lm, RIGHT_EYE);
  const [cx, cy] = [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
  const iod = Math.hypot(r[0] - l[0], r[1] - l[1]);
  const m = meanPoint(lm, MOUTH_CORNERS);
  // Unit normal of the eye line, pointing down the face: a head tilted in the image plane does not foreshorten.
  const [nx, ny] = [-(r[1] - l[1]) / iod, (r[0] - l[0]) / iod];
  return ((m[0] - cx) * nx + (m[1] - cy) * ny) / iod;
}

/**
 * The face's size in the image, pixels: the hypotenuse of the inter-eye distance and the eye-to-mouth distance.
 * A turn shrinks the first and a nod the second, so it changes little while the head rotates (a 60° turn: ×0.8)
 * but fully when the face comes closer or another face replaces it.
 */
export function faceSize(lm: readonly Point[]): number {
  const f = eyeFrame(lm);
  const m = meanPoint(lm, MOUTH_CORNERS);
  return Math.hypot(f.iod, Math.hypot(m[0] - f.centre[0], m[1] - f.centre[1]));
}

/** Row-major 3×3 homography. */
export type Homography = [number, number, number, number, number, number, number, number, number];

/** Similarity that moves the points' centroid to the origin and their mean distance to √2 (Hartley normalisation). */
function normaliser(points: Point[]): Homography {
  let cx = 0;
  let cy = 0;
  for (const [x, y] of points) {
    cx += x;
    cy += y;
  }
  cx /= points.length;
  cy /= points.length;
  let d = 0;
  for (const [x, y] of points) d += Math.hypot(x - cx, y - cy);
  const s = d > 0 ? (Math.SQRT2 * points.length) / d : 1;
  return [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1];
}

function multiply(a: Homography, b: Homography): Homography {
  const r = new Array<number>(9).fill(0) as Homography;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}

function invertSimilarity(t: Homography): Homography {
  const s = t[0];
  return [1 / s, 0, -t[2] / s, 0, 1 / s, -t[5] / s, 0, 0, 1];
}

export function applyHomography(h: Homography, p: Point): [number, number] {
  const w = h[6] * p[0] + h[7] * p[1] + h[8];
  return [(h[0] * p[0] + h[1] * p[1] + h[2]) / w, (h[3] * p[0] + h[4] * p[1] + h[5]) / w];
}

/** Solves the n×n system a·x = b in place by Gaussian elimination with partial pivoting; null when singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-12) return null;
    [a[c], a[p]] = [a[p], a[c]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < n; k++) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}

/**
 * Least-squares homography mapping `from` onto `to` (≥ 4 point pairs): normalised DLT with h33 = 1, solved from
 * the 8×8 normal equations. Null for degenerate input (collinear or coincident points).
 */
export function fitHomography(from: Point[], to: Point[]): Homography | null {
  if (from.length !== to.length || from.length < 4) return null;
  const ta = normaliser(from);
  const tb = normaliser(to);
  const ata = Array.from({ length: 8 }, () => new Array<number>(8).fill(0));
  const atb = new Array<number>(8).fill(0);
  const add = (row: number[], rhs: number) => {
    for (let i = 0; i < 8; i++) {
      atb[i] += row[i] * rhs;
      for (let j = 0; j < 8; j++) ata[i][j] += row[i] * row[j];
    }
  };
  for (let i = 0; i < from.length; i++) {
    const [x, y] = applyHomography(ta, from[i]);
    const [u, v] = applyHomography(tb, to[i]);
    add([x, y, 1, 0, 0, 0, -u * x, -u * y], u);
    add([0, 0, 0, x, y, 1, -v * x, -v * y], v);
  }
  const h = solve(ata, atb);
  if (!h) return null;
  return multiply(invertSimilarity(tb), multiply([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1], ta));
}

/**
 * How far the nose stands out of the plane of the brows and eyes between two views, in inter-eye distances of
 * the second view: fit a homography from the first view's brow and eye points to the second's, predict the nose
 * points with it, and take the RMS error. Every point of a flat picture (a print turned or tilted, a photo on a
 * screen) follows one homography, so only landmark noise remains; the nose of a turning head moves across the
 * face plane by about as much as its offset from the eyes changes.
 */
export function noseParallax(from: readonly Point[], to: readonly Point[]): number {
  const h = fitHomography(
    FACE_PLANE.map((i) => from[i]),
    FACE_PLANE.map((i) => to[i]),
  );
  if (!h) return 0;
  let sum = 0;
  for (const i of NOSE) {
    const [x, y] = applyHomography(h, from[i]);
    sum += (x - to[i][0]) ** 2 + (y - to[i][1]) ** 2;
  }
  return Math.sqrt(sum / NOSE.length) / eyeFrame(to).iod;
}
