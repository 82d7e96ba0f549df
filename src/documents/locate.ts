import { binarise, blackhat, close, components, keepCharacterSized, otsu, type Component, type Grey } from './morphology.js';

/**
 * Where an MRZ may be: a band of two or three long, parallel, equally long text lines (or one dense block where the
 * lines merged), in the working image's pixels. `angle` is the text direction modulo 180° (radians, y down).
 */
export interface Band {
  cx: number;
  cy: number;
  angle: number;
  /** Along the lines. */
  length: number;
  /** Across all lines, edge to edge. */
  height: number;
  /** Lines seen (0: one merged block). */
  lines: number;
  score: number;
}

/** Longest side of the working image the band is searched in. */
export const WORK_SIDE = 1000;

const angleDiff = (a: number, b: number) => {
  const d = Math.abs(a - b) % Math.PI;
  return Math.min(d, Math.PI - d);
};

/** Two or three lines one above the other: parallel, about as long, side by side along the axis, evenly spaced. */
function groupLines(lines: Component[]): Band[] {
  const bands: Band[] = [];
  const sorted = [...lines].sort((a, b) => b.length - a.length);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    const nx = -Math.sin(a.angle);
    const ny = Math.cos(a.angle);
    const mates = sorted.filter((b) => {
      // A line may break where glare or wear takes its filler away: a part of at least half the longest line counts.
      if (b === a || angleDiff(a.angle, b.angle) > 0.08 || b.length < 0.5 * a.length || b.length > a.length) return false;
      const dx = b.cx - a.cx;
      const dy = b.cy - a.cy;
      const across = Math.abs(dx * nx + dy * ny);
      const along = Math.abs(dx * Math.cos(a.angle) + dy * Math.sin(a.angle));
      // The thinner line's height: a neighbouring print or noise can thicken the other.
      const t = Math.min(a.thickness, b.thickness);
      return across > 1.2 * t && across < 6 * t && along < 0.5 * (a.length - b.length) + 0.12 * a.length;
    });
    if (mates.length === 0) continue;
    const group = [a, ...mates].slice(0, 3);
    const proj = (c: Component) => c.cx * nx + c.cy * ny;
    const ps = group.map(proj).sort((x, y) => x - y);
    const t = Math.max(...group.map((c) => c.thickness));
    // Along the lines the longest one (the others may be broken); across them, the middle of all.
    const mid = (ps[0]! + ps[ps.length - 1]!) / 2 - proj(a);
    const cx = a.cx + nx * mid;
    const cy = a.cy + ny * mid;
    const length = a.length;
    bands.push({ cx, cy, angle: a.angle, length, height: ps[ps.length - 1]! - ps[0]! + t, lines: group.length, score: group.length * length });
  }
  return bands;
}

/**
 * MRZ band candidates, best first: black-hat for dark print, Otsu, then closings at a few scales that join the
 * characters of a line (and, at the larger scales, the lines of the zone) into elongated components.
 */
export function locateBands(img: Grey): Band[] {
  const long = Math.max(img.width, img.height);
  const k = Math.max(7, Math.round(long / 60));
  const bh = blackhat(img, k, k);
  // Characters only: an MRZ character is at most a 25th of the photo's long side (a card filling the frame), and
  // a chevron of a passport filling half of it still covers more than (long/350)² pixels.
  const bin = keepCharacterSized(binarise(bh, Math.max(25, otsu(bh))), Math.max(3, (long / 350) ** 2), long / 25);
  const candidates: Band[] = [];
  // Joined along the rows or along the columns only, so the characters of a line merge and the lines stay apart.
  for (const join of [long / 90, long / 55, long / 35]) {
    const size = Math.max(3, Math.round(join));
    for (const [kw, kh] of [
      [size, 3],
      [3, size],
    ] as const) {
      const parts = components(close(bin, kw, kh), Math.round((long / 40) ** 2 / 4));
      const lines = parts.filter((c) => c.length > 0.18 * long && c.length > 9 * c.thickness && c.area > 0.4 * c.length * c.thickness);
      candidates.push(...groupLines(lines));
    }
  }
  // The same band found at several scales: keep the best of each place.
  const kept: Band[] = [];
  for (const b of candidates.sort((x, y) => y.score - x.score)) {
    if (kept.some((o) => Math.hypot(o.cx - b.cx, o.cy - b.cy) < 0.25 * o.length && angleDiff(o.angle, b.angle) < 0.15)) continue;
    kept.push(b);
  }
  return kept;
}
