import { createHash } from 'node:crypto';
import sharp from 'sharp';

/** What the replay check remembers of a frame: never the image itself. */
export interface Fingerprint {
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** 64-bit difference hash of the picture, hex. */
  dhash: string;
}

/**
 * dHash: the picture shrunk to 9×8 grey cells, one bit per horizontally adjacent pair (is the right cell brighter?).
 * It survives re-encoding and rescaling, so a re-compressed copy of an earlier frame is still recognised.
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

export async function fingerprint(image: Uint8Array): Promise<Fingerprint> {
  return { sha256: createHash('sha256').update(image).digest('hex'), dhash: await dHash(image) };
}
