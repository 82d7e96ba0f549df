import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { estimateFront, findEdges } from '../../src/documents/edges.js';
import { locateBands } from '../../src/documents/locate.js';
import { decodeGrey, toPlacement } from '../../src/documents/reader.js';
import { photographWithCorners, random, randomContent, renderDocument, type Photograph, type Point } from '../../src/documents/synthetic.js';
import { requireSharedFaces, SHARED_FACES } from '../face/helpers.js';
import { scoreFront } from './front-score.js';
import { requireOcrFont } from './helpers.js';

/** A sheared, tilted passport page on a darker table: its sides slant 5.7° off the MRZ's perpendicular. */
const SHOT: Photograph = { quarterTurns: 0, angle: 4, shear: 0.1, fill: 0.7, size: 1400, blur: 0.5, glare: 0, noise: 4, jpegQuality: 85 };

/** Photographs a TD3 page and finds its MRZ band as the reader does (no flip: the page is upright but for 4°). */
async function shoot(opts: { background?: string; cutTop?: boolean } = {}) {
  const rnd = random(2020);
  const { png } = await renderDocument('TD3', randomContent(rnd, 'TD3'), readFileSync(path.join(SHARED_FACES!, 'deepface', 'img3.jpg')), rnd);
  let { jpeg, corners } = await photographWithCorners(png, SHOT, rnd, opts);
  if (opts.cutTop) {
    // The photo's upper border runs 15 % of the page's height below its top: that edge is not in the photo.
    const cut = Math.round(Math.min(corners[0]![1], corners[1]![1]) + 0.15 * (corners[3]![1] - corners[0]![1]));
    const { width, height } = await sharp(jpeg).metadata();
    jpeg = await sharp(jpeg).extract({ left: 0, top: cut, width: width!, height: height! - cut }).jpeg({ quality: 90 }).toBuffer();
    corners = corners.map(([x, y]): Point => [x, y - cut]);
  }
  const { full, work, scale } = await decodeGrey(jpeg, 40_000_000);
  const band = locateBands(work)[0]!;
  const placement = toPlacement(band, scale, false);
  return { full, corners, placement, estimate: estimateFront(placement, 'TD3') };
}

const worst = (s: ReturnType<typeof scoreFront>) => Math.max(...[s.top, s.bottom, s.left, s.right].map(Math.abs));

describe.runIf(requireOcrFont() && requireSharedFaces())('front crop from the document edges (edges.ts)', () => {
  it('finds all four edges of a sheared page to within 1.5 % where the MRZ estimate is off by more than 3 %', { timeout: 60_000 }, async () => {
    const { full, corners, placement, estimate } = await shoot();
    const { frame, found } = findEdges(full, estimate, placement);
    expect(found).toEqual({ top: true, bottom: true, left: true, right: true });
    expect(worst(scoreFront(estimate, corners))).toBeGreaterThan(0.03);
    const s = scoreFront(frame, corners);
    expect(worst(s), JSON.stringify(s)).toBeLessThan(0.015);
    expect(frame.shear).toBeCloseTo(SHOT.shear, 1);
  });

  it('keeps the estimate for the top edge when the photo cuts the page off there', { timeout: 60_000 }, async () => {
    const { full, corners, placement, estimate } = await shoot({ cutTop: true });
    const { frame, found } = findEdges(full, estimate, placement);
    expect(found).toEqual({ top: false, bottom: true, left: true, right: true });
    const [e, s] = [scoreFront(estimate, corners), scoreFront(frame, corners)];
    // The top where the estimate put it (within a pixel or two of the page's height), the other three at the page's edges.
    expect(Math.abs(s.top - e.top), JSON.stringify({ e, s })).toBeLessThan(0.003);
    expect(Math.max(Math.abs(s.bottom), Math.abs(s.left), Math.abs(s.right)), JSON.stringify(s)).toBeLessThan(0.015);
  });

  it('keeps the whole estimate on a background as light as the page (no edge to see)', { timeout: 60_000 }, async () => {
    const { full, placement, estimate } = await shoot({ background: '#ebe8e4' });
    const { frame, found } = findEdges(full, estimate, placement);
    expect(found).toEqual({ top: false, bottom: false, left: false, right: false });
    expect(frame.w).toBeCloseTo(estimate.w, 6);
    expect(frame.h).toBeCloseTo(estimate.h, 6);
    expect(frame.cx).toBeCloseTo(estimate.cx, 6);
    expect(frame.cy).toBeCloseTo(estimate.cy, 6);
    expect(frame.shear).toBe(0);
  });
});
