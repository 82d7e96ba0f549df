import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { flushTinyWeights } from '../../src/face/weights.js';
import { MODELS_DIR } from './helpers.js';

const OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' };

/** A smooth, face-sized input in the models' normalised range. */
function input(shape: number[]): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i / 37) * Math.cos(i / 1013) * 0.9;
  return new ort.Tensor('float32', data, shape);
}

describe('tiny weights', () => {
  it('zeroes only weights below 1e-15 and leaves the model outputs bit-identical', async () => {
    for (const [file, shape, expected] of [
      ['fr_feature.onnx', [1, 3, 112, 112], 190_805],
      ['fr_landmark.onnx', [1, 1, 64, 64], 26_567],
      ['fr_detect.onnx', [1, 3, 240, 320], 0],
    ] as const) {
      const shipped = await readFile(path.join(MODELS_DIR, file));
      const flushed = Buffer.from(shipped);
      expect(flushTinyWeights(flushed), file).toBe(expected);
      // A second pass finds nothing left, and only values below the bound changed.
      expect(flushTinyWeights(flushed)).toBe(0);
      expect(flushed.length).toBe(shipped.length);
      let changedBytes = 0;
      for (let i = 0; i < shipped.length; i++) if (shipped[i] !== flushed[i]) changedBytes++;
      expect(changedBytes).toBeLessThanOrEqual(4 * expected);

      const [a, b] = await Promise.all([ort.InferenceSession.create(shipped, OPTIONS), ort.InferenceSession.create(flushed, OPTIONS)]);
      const feeds = { [a.inputNames[0]]: input([...shape]) };
      const [ra, rb] = [await a.run(feeds), await b.run(feeds)];
      for (const name of a.outputNames) expect(Array.from(rb[name].data as Float32Array), `${file} ${name}`).toEqual(Array.from(ra[name].data as Float32Array));
      await Promise.all([a.release(), b.release()]);
    }
  });

  it('refuses a truncated model instead of reading past its end', () => {
    expect(() => flushTinyWeights(new Uint8Array([0x3a, 0x7f, 0x01]))).toThrow(RangeError);
  });
});
