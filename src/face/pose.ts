import * as ort from 'onnxruntime-node';
import { clipRect, cropToTensor, softmax, type Normalization, type RgbImage } from './image.js';
import type { Point } from './landmarks.js';
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

/** In-plane rotation in degrees (clockwise positive) of the line from the image-left eye to the image-right eye. */
export function eyeLineRoll(landmarks5: Point[]): number {
  const [l, r] = landmarks5;
  return (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;
}

/**
 * Yaw and pitch from fr_pose (HopeNet-style: box widened by a quarter on every side, 224×224 RGB, ImageNet
 * normalisation); roll from the eye line, which is exact geometry where fr_pose underestimates beyond ~30°
 * (40°-rotated shared photos: 68 of 68 read above 25° from landmarks, 47 of 68 from fr_pose).
 */
export async function estimatePose(session: ort.InferenceSession, img: RgbImage, box: Box, landmarks5: Point[]): Promise<Pose> {
  const crop = clipRect(
    { x: box.x - box.width / 4, y: box.y - box.height / 4, width: box.width * 1.5, height: box.height * 1.5 },
    img.width,
    img.height,
  );
  const data = cropToTensor(img, crop, SIZE, SIZE, NORM);
  const out = await session.run({ input: new ort.Tensor('float32', data, [1, 3, SIZE, SIZE]) });
  return {
    yaw: binExpectation(out[OUTPUTS.yaw].data as Float32Array),
    pitch: binExpectation(out[OUTPUTS.pitch].data as Float32Array),
    roll: eyeLineRoll(landmarks5),
  };
}
