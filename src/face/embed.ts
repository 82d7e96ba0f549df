import * as ort from 'onnxruntime-node';
import { ALIGNED_SIZE } from './align.js';
import { toPlanar } from './image.js';
import { l2normalize } from './recipe.js';

/** The aligned face (112×112 interleaved RGB) mirrored left ↔ right: fr_feature's second input. */
export function mirrorFace(aligned: Float32Array): Float32Array {
  const out = new Float32Array(aligned.length);
  const row = ALIGNED_SIZE * 3;
  for (let y = 0; y < ALIGNED_SIZE; y++) {
    for (let x = 0; x < ALIGNED_SIZE; x++) {
      const from = y * row + x * 3;
      const to = y * row + (ALIGNED_SIZE - 1 - x) * 3;
      out[to] = aligned[from];
      out[to + 1] = aligned[from + 1];
      out[to + 2] = aligned[from + 2];
    }
  }
  return out;
}

/** fr_feature on one aligned 112×112 RGB face: BGR planes, (v − 127) / 128, output L2-normalised. */
export async function embedFace(session: ort.InferenceSession, aligned: Float32Array): Promise<Float32Array> {
  const size = ALIGNED_SIZE * ALIGNED_SIZE;
  const data = toPlanar(aligned, size, { mean: [127, 127, 127], std: [128, 128, 128], bgr: true });
  const input = new ort.Tensor('float32', data, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]);
  const out = await session.run({ input });
  return l2normalize(Float32Array.from(out.output.data as Float32Array));
}
