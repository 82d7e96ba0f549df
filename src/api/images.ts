import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Analysis } from '../face/index.js';
import type { FaceCrop } from '../match-records/index.js';
import type { ImageField } from './errors.js';
import type { ImageRef } from './types.js';

/** Room around the detected box so a reviewer sees the whole head, and the longest side of the stored crop. */
const MARGIN = 0.3;
const MAX_SIDE = 320;

export interface CroppedFace extends FaceCrop {
  ref: ImageRef;
  kind: ImageRef['documentName'];
}

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

/**
 * Crops the face of every analysed image that has one (only done when the operator keeps images; the store seals
 * them). The document's face is its portrait: `cropped_portrait`.
 */
export async function cropFaces(items: { field: Exclude<ImageField, 'document_back'>; image: Buffer; analysis: Analysis }[]): Promise<CroppedFace[]> {
  const withFace = items.filter((i) => i.analysis.face);
  return Promise.all(
    withFace.map(async ({ field, image, analysis }) => {
      const documentName = field === 'document' ? 'cropped_portrait' : field;
      return { ref: { documentName, side: field === 'document' ? 'front' : null, key: randomUUID() }, kind: documentName, jpeg: await cropFace(image, analysis) };
    }),
  );
}

/** The deskewed document and its MRZ band, kept like the face crops. */
export function documentCrops(crops: { front: Buffer; mrz: Buffer } | null | undefined, side: 'front' | 'back'): CroppedFace[] {
  if (!crops) return [];
  return [
    { ref: { documentName: 'cropped_front', side, key: randomUUID() }, kind: 'cropped_front', jpeg: crops.front },
    { ref: { documentName: 'cropped_mrz', side, key: randomUUID() }, kind: 'cropped_mrz', jpeg: crops.mrz },
  ];
}
