import type { FrontFrame } from '../../src/documents/edges.js';
import type { Point } from '../../src/documents/synthetic.js';

/** A photo point in the frame's coordinates: turned upright, from its centre, shear undone (u right, v down). */
export function toFrame(f: FrontFrame, [x, y]: Point): Point {
  const r = (f.rotation * Math.PI) / 180;
  const dx = x - f.cx;
  const dy = y - f.cy;
  const u = dx * Math.cos(r) - dy * Math.sin(r);
  const v = dx * Math.sin(r) + dy * Math.cos(r);
  return [u - f.shear * v, v];
}

const area = (poly: Point[]) => Math.abs(poly.reduce((a, [x, y], i) => a + x * poly[(i + 1) % poly.length]![1] - poly[(i + 1) % poly.length]![0] * y, 0)) / 2;

/** Sutherland–Hodgman: the convex polygon clipped to the half-plane where `keep` holds (`cross` finds the crossing). */
function clip(poly: Point[], inside: (p: Point) => boolean, cross: (a: Point, b: Point) => Point): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    if (inside(b)) {
      if (!inside(a)) out.push(cross(a, b));
      out.push(b);
    } else if (inside(a)) out.push(cross(a, b));
  }
  return out;
}

export interface FrontScore {
  /** Each crop edge's distance to the document's true edge (the mean of its two corners), as a share of the document's width (left, right) or height (top, bottom): positive takes in background, negative cuts the document. */
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** Share of the document's area outside the crop, and of the crop's area that is not the document. */
  cutArea: number;
  backgroundArea: number;
}

/** How well a crop frame fits the document whose corners (TL, TR, BR, BL of the upright document) are given. */
export function scoreFront(f: FrontFrame, corners: Point[]): FrontScore {
  const [tl, tr, br, bl] = corners.map((c) => toFrame(f, c)) as [Point, Point, Point, Point];
  const top = (tl[1] + tr[1]) / 2;
  const bottom = (bl[1] + br[1]) / 2;
  const left = (tl[0] + bl[0]) / 2;
  const right = (tr[0] + br[0]) / 2;
  const docW = right - left;
  const docH = bottom - top;
  const [hw, hh] = [f.w / 2, f.h / 2];
  let poly: Point[] = [tl, tr, br, bl];
  const atX = (x: number) => (a: Point, b: Point): Point => [x, a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0])];
  const atY = (y: number) => (a: Point, b: Point): Point => [a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]), y];
  poly = clip(poly, (p) => p[0] >= -hw, atX(-hw));
  poly = clip(poly, (p) => p[0] <= hw, atX(hw));
  poly = clip(poly, (p) => p[1] >= -hh, atY(-hh));
  poly = clip(poly, (p) => p[1] <= hh, atY(hh));
  const inter = poly.length >= 3 ? area(poly) : 0;
  return {
    top: (top - -hh) / docH,
    bottom: (hh - bottom) / docH,
    left: (left - -hw) / docW,
    right: (hw - right) / docW,
    cutArea: 1 - inter / area([tl, tr, br, bl]),
    backgroundArea: 1 - inter / (f.w * f.h),
  };
}
