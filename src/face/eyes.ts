import * as ort from 'onnxruntime-node';
import { clipRect, cropToGray, softmax, type Rect, type RgbImage } from './image.js';
import type { Point } from './landmarks.js';

const SIZE = 24;

/** Square around one eye: centre of its four lid points, side 1.6 × the corner-to-corner distance. */
function eyeCrop(p: Point[], corner0: number, corner1: number, lids: number[], width: number, height: number): Rect {
  let cx = 0;
  let cy = 0;
  for (const i of lids) {
    cx += p[i][0] / lids.length;
    cy += p[i][1] / lids.length;
  }
  const side = Math.max(2, Math.hypot(p[corner1][0] - p[corner0][0], p[corner1][1] - p[corner0][1]) * 1.6);
  return clipRect({ x: cx - side / 2, y: cy - side / 2, width: side, height: side }, width, height);
}

async function eyeOpen(session: ort.InferenceSession, img: RgbImage, crop: Rect): Promise<number> {
  if (crop.width < 2 || crop.height < 2) return 0;
  const gray = cropToGray(img, crop, SIZE, SIZE, 1 / 255);
  const out = await session.run({ input: new ort.Tensor('float32', gray, [1, 1, SIZE, SIZE]) });
  return softmax(out.output.data as Float32Array)[1];
}

/** p(open) for each eye (image-left first), from fr_eye on 24×24 grey eye patches (0..1). */
export async function eyesOpen(session: ort.InferenceSession, img: RgbImage, p: Point[]): Promise<[number, number]> {
  const left = eyeCrop(p, 36, 39, [37, 38, 40, 41], img.width, img.height);
  const right = eyeCrop(p, 42, 45, [43, 44, 46, 47], img.width, img.height);
  return [await eyeOpen(session, img, left), await eyeOpen(session, img, right)];
}
