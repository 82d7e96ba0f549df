import * as ort from 'onnxruntime-node';
import { clipRect, cropToTensor, softmax, type Normalization, type RgbImage } from './image.js';
import type { Box, Pose } from './types.js';

const SIZE = 224;
/** ImageNet statistics on v/255, expressed on 0..255 values. */
const NORM: Normalization = { mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255] };
/** The exported graph's output names (see models/manifest.json). */
const OUTPUTS = { yaw: 'output', pitch: '617' } as const;

/** Expected angle of a 66-bin (3° each, −99..+99°) classifier head. */
function binExpectation(logits: Float32Array): number {
  const p = softmax(logits);
  let e = 0;
  for (let i = 0; i < p.length; i++) e += p[i] * i;
  return e * 3 - 99;
}

/** fr_pose's input (HopeNet-style): the box widened by a quarter on every side, 224×224 RGB, ImageNet normalisation. */
export function poseInput(img: RgbImage, box: Box): Float32Array {
  const crop = clipRect(
    { x: box.x - box.width / 4, y: box.y - box.height / 4, width: box.width * 1.5, height: box.height * 1.5 },
    img.width,
    img.height,
  );
  return cropToTensor(img, crop, SIZE, SIZE, NORM);
}

/**
 * Yaw and pitch from fr_pose on its prepared input; roll comes from the eye line (`eyeLineRoll`), which is exact
 * geometry where fr_pose underestimates beyond ~30° (40°-rotated shared photos: 68 of 68 read above 25° from
 * landmarks, 47 of 68 from fr_pose).
 */
export async function headAngles(session: ort.InferenceSession, input: Float32Array): Promise<Omit<Pose, 'roll'>> {
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
  return {
    yaw: binExpectation(out[OUTPUTS.yaw].data as Float32Array),
    pitch: binExpectation(out[OUTPUTS.pitch].data as Float32Array),
  };
}
