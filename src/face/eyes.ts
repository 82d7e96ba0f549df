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

/** fr_eye's inputs: a 24×24 grey patch (0..1) per eye, image-left first; null where the eye's crop is degenerate. */
export function eyeInputs(img: RgbImage, p: Point[]): [Float32Array | null, Float32Array | null] {
  const patch = (crop: Rect) => (crop.width < 2 || crop.height < 2 ? null : cropToGray(img, crop, SIZE, SIZE, 1 / 255));
  return [patch(eyeCrop(p, 36, 39, [37, 38, 40, 41], img.width, img.height)), patch(eyeCrop(p, 42, 45, [43, 44, 46, 47], img.width, img.height))];
}

async function eyeOpen(session: ort.InferenceSession, patch: Float32Array | null): Promise<number> {
  if (!patch) return 0;
  const out = await session.run({ input: new ort.Tensor('float32', patch, [1, 1, SIZE, SIZE]) });
  return softmax(out.output.data as Float32Array)[1];
}

/** p(open) for each eye (image-left first), from fr_eye on the prepared patches. */
export async function eyesOpen(session: ort.InferenceSession, patches: [Float32Array | null, Float32Array | null]): Promise<[number, number]> {
  return [await eyeOpen(session, patches[0]), await eyeOpen(session, patches[1])];
}
