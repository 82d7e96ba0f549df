import sharp from 'sharp';
import type { Rect, RgbImage } from './image.js';

/**
 * dHash: the picture shrunk to 9×8 grey cells, one bit per horizontally adjacent pair (is the right cell brighter?),
 * as 16 hex digits. It survives re-encoding and rescaling, so a re-compressed copy of a picture is still recognised.
 * JPEG's shrink-on-load makes it cheap (about a millisecond for a 480×360 frame).
 */
export async function dHash(image: Uint8Array): Promise<string> {
  const cells = await sharp(image).rotate().greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits = (bits << 1n) | (cells[y * 9 + x + 1] > cells[y * 9 + x] ? 1n : 0n);
  }
  return bits.toString(16).padStart(16, '0');
}

export function hamming(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  for (; x; x &= x - 1n) n++;
  return n;
}

/**
 * 64-bit dHash distance at or below which two frames are the same picture. Measured on 640×480 camera-style frames
 * of the 61 deepface photos: re-encoding and rescaling move 0–3 bits; shifting the picture by 4 px moves 3 bits at
 * the median (8 at most), by 8 px 5 (10); different photos are 9 bits apart at the least and 18 at the first
 * percentile. 6 catches re-encodes and small shifts while different pictures stay apart.
 */
export const NEAR_DUPLICATE_BITS = 6;

/**
 * dHash of a region of a decoded image (the subject's face box): 9×8 cells of mean grey, one bit per horizontally
 * adjacent pair. The face, not the whole frame: a still background makes whole frames of a moving head look alike.
 * Costs a few microseconds on the worker that already holds the pixels.
 */
export function regionDHash(img: RgbImage, box: Rect): string {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.height));
  const cells = new Float64Array(72);
  const counts = new Uint32Array(72);
  // Every second pixel in each direction is plenty for cell means.
  for (let y = y0; y < y1; y += 2) {
    const cy = Math.min(7, Math.floor(((y - y0) * 8) / Math.max(1, y1 - y0)));
    for (let x = x0; x < x1; x += 2) {
      const cx = Math.min(8, Math.floor(((x - x0) * 9) / Math.max(1, x1 - x0)));
      const o = (y * img.width + x) * 3;
      cells[cy * 9 + cx] += 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
      counts[cy * 9 + cx]++;
    }
  }
  let hex = '';
  for (let y = 0; y < 8; y++) {
    let nibble = 0;
    for (let x = 0; x < 8; x++) {
      const i = y * 9 + x;
      const right = cells[i + 1] / Math.max(1, counts[i + 1]);
      const left = cells[i] / Math.max(1, counts[i]);
      nibble = (nibble << 1) | (right > left ? 1 : 0);
      if (x % 4 === 3) {
        hex += nibble.toString(16);
        nibble = 0;
      }
    }
  }
  return hex;
}
