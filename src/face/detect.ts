import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { cropToTensor, toPlanar, type Normalization, type RgbImage } from './image.js';
import type { DetectedFace } from './types.js';

// fr_detect (Ultra-Light RFB-320): whole image stretched to 320×240, outputs already decoded and softmaxed.
const IN_W = 320;
const IN_H = 240;
export const DETECT_SCORE_MIN = 0.6;
export const NMS_IOU = 0.3;
const NORM: Normalization = { mean: [127, 127, 127], std: [128, 128, 128] };

/**
 * Bilinear is an exact 2×2 average down to ×2 shrink; beyond that it skips pixels and aliases, so larger photos are
 * shrunk by libvips (box-filter shrink by the integer factor, then a linear reduce), 3–7× faster than an area
 * average in JavaScript on 3–5 MP photos. Up to ×2 the JavaScript resampler is faster than a round trip to sharp.
 */
async function detectorInput(img: RgbImage): Promise<Float32Array> {
  const shrink = Math.max(img.width / IN_W, img.height / IN_H);
  if (shrink <= 2) return cropToTensor(img, { x: 0, y: 0, width: img.width, height: img.height }, IN_W, IN_H, NORM);
  const small = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(IN_W, IN_H, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return toPlanar(small, IN_W * IN_H, NORM);
}

export async function detectFaces(session: ort.InferenceSession, img: RgbImage): Promise<DetectedFace[]> {
  const data = await detectorInput(img);
  const input = new ort.Tensor('float32', data, [1, 3, IN_H, IN_W]);
  const out = await session.run({ input });
  return decodeDetections(out.scores.data as Float32Array, out.boxes.data as Float32Array, img.width, img.height);
}

/** scores[n,2] (column 1 = face), boxes[n,4] corner form in 0..1 → faces in pixels, best first, after NMS. */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, width: number, height: number): DetectedFace[] {
  const candidates: DetectedFace[] = [];
  const n = scores.length / 2;
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1];
    if (score < DETECT_SCORE_MIN) continue;
    const x1 = boxes[4 * i] * width;
    const y1 = boxes[4 * i + 1] * height;
    const x2 = boxes[4 * i + 2] * width;
    const y2 = boxes[4 * i + 3] * height;
    // Boxes with less than 2 px inside the image leave nothing to crop for the landmarks.
    if (Math.min(x2, width) - Math.max(x1, 0) < 2 || Math.min(y2, height) - Math.max(y1, 0) < 2) continue;
    candidates.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score });
  }
  return nms(candidates, NMS_IOU);
}

/** Greedy non-maximum suppression by score. */
export function nms(faces: DetectedFace[], iouMax: number): DetectedFace[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: DetectedFace[] = [];
  for (const f of sorted) {
    if (kept.every((k) => iou(k.box, f.box) <= iouMax)) kept.push(f);
  }
  return kept;
}

export function iou(a: DetectedFace['box'], b: DetectedFace['box']): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
