import * as ort from 'onnxruntime-node';
import { cropToTensor, softmax, type Rect, type RgbImage } from './image.js';
import type { Box } from './types.js';

const SIZE = 128;
const CONTEXT_SCALE = 2.7;

/**
 * The context crop fr_liveness expects: a square of side = box height on the box centre, enlarged up to ×2.7
 * (less when the image is too small), shifted to stay inside the image.
 */
export function livenessCrop(box: Box, width: number, height: number): Rect {
  const side = box.height;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const scale = Math.min((height - 1) / side, (width - 1) / side, CONTEXT_SCALE);
  const size = side * scale;
  let x0 = cx - size / 2;
  let y0 = cy - size / 2;
  x0 = Math.min(Math.max(0, x0), width - 1 - size);
  y0 = Math.min(Math.max(0, y0), height - 1 - size);
  const x = Math.max(0, Math.trunc(x0));
  const y = Math.max(0, Math.trunc(y0));
  return { x, y, width: Math.max(1, Math.min(Math.trunc(size), width - x)), height: Math.max(1, Math.min(Math.trunc(size), height - y)) };
}

/** fr_liveness's input: the context crop at 128×128, raw 0..255 values in BGR order. */
export function livenessInput(img: RgbImage, box: Box): Float32Array {
  return cropToTensor(img, livenessCrop(box, img.width, img.height), SIZE, SIZE, { mean: [0, 0, 0], std: [1, 1, 1], bgr: true });
}

/** p(live) from fr_liveness on its prepared input: softmax, class 0 = live. */
export async function livenessScore(session: ort.InferenceSession, input: Float32Array): Promise<number> {
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
  return softmax(out.output.data as Float32Array)[0];
}
