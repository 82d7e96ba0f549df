import { createHash } from 'node:crypto';
import { dHash } from '../face/index.js';

/** What the replay check remembers of a frame: never the image itself. */
export interface Fingerprint {
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** 64-bit difference hash of the picture, hex. */
  dhash: string;
}

export async function fingerprint(image: Uint8Array): Promise<Fingerprint> {
  return { sha256: createHash('sha256').update(image).digest('hex'), dhash: await dHash(image) };
}
