import type { RgbImage } from './image.js';
import type { Point } from './landmarks.js';

export const ALIGNED_SIZE = 112;

/** ArcFace 112×112 template: eyes, nose tip, mouth corners. */
export const ARCFACE_TEMPLATE: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** dst = [[a, −b], [b, a]]·src + [tx, ty]. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity transform src → dst (Umeyama without reflection). In 2-D the rotation-and-scale part
 * of a proper similarity is [[a, −b], [b, a]], which gives the closed form below.
 */
export function estimateSimilarity(src: Point[], dst: Point[]): Similarity {
  const n = src.length;
  let msx = 0;
  let msy = 0;
  let mdx = 0;
  let mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0] / n;
    msy += src[i][1] / n;
    mdx += dst[i][0] / n;
    mdy += dst[i][1] / n;
  }
  let ss = 0;
  let dot = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx;
    const sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx;
    const dy = dst[i][1] - mdy;
    ss += sx * sx + sy * sy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
  }
  const a = dot / ss;
  const b = cross / ss;
  return { a, b, tx: mdx - (a * msx - b * msy), ty: mdy - (b * msx + a * msy) };
}

/**
 * Warps the face onto the 112×112 template by inverse mapping with bilinear sampling and a zero border
 * (cv.warpAffine semantics). Returns interleaved RGB floats 0..255.
 */
export function alignFace(img: RgbImage, landmarks5: Point[]): Float32Array {
  const { a, b, tx, ty } = estimateSimilarity(landmarks5, ARCFACE_TEMPLATE);
  const det = a * a + b * b;
  // Inverse: src = [[a, b], [−b, a]]·(dst − t) / det.
  const ia = a / det;
  const ib = b / det;
  const { data, width, height } = img;
  const out = new Float32Array(ALIGNED_SIZE * ALIGNED_SIZE * 3);
  let o = 0;
  for (let y = 0; y < ALIGNED_SIZE; y++) {
    for (let x = 0; x < ALIGNED_SIZE; x++, o += 3) {
      const dx = x - tx;
      const dy = y - ty;
      const sx = ia * dx + ib * dy;
      const sy = -ib * dx + ia * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let j = 0; j < 2; j++) {
        const yy = y0 + j;
        if (yy < 0 || yy >= height) continue;
        const wy = j === 0 ? 1 - fy : fy;
        for (let i = 0; i < 2; i++) {
          const xx = x0 + i;
          if (xx < 0 || xx >= width) continue;
          const w = wy * (i === 0 ? 1 - fx : fx);
          const p = (yy * width + xx) * 3;
          out[o] += data[p] * w;
          out[o + 1] += data[p + 1] * w;
          out[o + 2] += data[p + 2] * w;
        }
      }
    }
  }
  return out;
}
