import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Analysis } from '../face/index.js';
import type { Sealer } from '../store/crypto.js';
import type { ImageField } from './errors.js';
import type { ImageRef } from './types.js';

/** Room around the detected box so a reviewer sees the whole head, and the longest side of the stored crop. */
const MARGIN = 0.3;
const MAX_SIDE = 320;

export interface CroppedFace {
  ref: ImageRef;
  kind: ImageField;
  /** Sealed JPEG. */
  data: Uint8Array<ArrayBuffer>;
}

/** Associated data binds a sealed crop to its key: a row's bytes cannot be served under another key. */
export const imagePurpose = (key: string) => `match-image:${key}`;

/** The face region of `image` as a small JPEG; the box is in EXIF-rotated pixels, like the analysis. */
async function cropFace(image: Buffer, a: Analysis): Promise<Buffer> {
  const box = a.face!.box;
  const left = Math.max(0, Math.floor(box.x - MARGIN * box.width));
  const top = Math.max(0, Math.floor(box.y - MARGIN * box.height));
  const right = Math.min(a.width, Math.ceil(box.x + (1 + MARGIN) * box.width));
  const bottom = Math.min(a.height, Math.ceil(box.y + (1 + MARGIN) * box.height));
  return sharp(image)
    .autoOrient()
    .extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) })
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** Crops and seals the face of every analysed image that has one (only done when the operator keeps images). */
export async function sealFaceCrops(
  sealer: Sealer,
  items: { field: ImageField; image: Buffer; analysis: Analysis }[],
): Promise<CroppedFace[]> {
  const withFace = items.filter((i) => i.analysis.face);
  return Promise.all(
    withFace.map(async ({ field, image, analysis }) => {
      const key = randomUUID();
      const jpeg = await cropFace(image, analysis);
      return {
        ref: { documentName: field, side: field === 'document' ? 'front' : null, key },
        kind: field,
        data: sealer.seal(jpeg, imagePurpose(key)),
      };
    }),
  );
}
