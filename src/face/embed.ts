import * as ort from 'onnxruntime-node';
import { ALIGNED_SIZE } from './align.js';
import { toPlanar } from './image.js';

/** fr_feature on an aligned 112×112 RGB face: BGR planes, (v − 127) / 128, output L2-normalised. */
export async function embedFace(session: ort.InferenceSession, aligned: Float32Array): Promise<Float32Array> {
  const size = ALIGNED_SIZE * ALIGNED_SIZE;
  const data = toPlanar(aligned, size, { mean: [127, 127, 127], std: [128, 128, 128], bgr: true });
  const input = new ort.Tensor('float32', data, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]);
  const out = await session.run({ input });
  const v = Float32Array.from(out.output.data as Float32Array);
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}
