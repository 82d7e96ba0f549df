/** Interleaved 8-bit RGB, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Axis-aligned pixel rectangle (integers for crops that mimic an image ROI). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Per-channel `(v − mean) / std` in RGB order, written as planar (NCHW) RGB or BGR. */
export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  bgr?: boolean;
}

/** Where each output column samples: source byte offsets of its two neighbours and the weight of the right one. */
function columnTaps(rect: Rect, outW: number): { x0: Int32Array; x1: Int32Array; fx: Float32Array } {
  const x0 = new Int32Array(outW);
  const x1 = new Int32Array(outW);
  const fx = new Float32Array(outW);
  const s = rect.width / outW;
  const max = rect.width - 1;
  for (let o = 0; o < outW; o++) {
    const f = Math.min(Math.max((o + 0.5) * s - 0.5, 0), max);
    const i = Math.floor(f);
    x0[o] = (rect.x + i) * 3;
    x1[o] = (rect.x + Math.min(i + 1, max)) * 3;
    fx[o] = f - i;
  }
  return { x0, x1, fx };
}

/** Where each output row samples: byte offsets of its two source rows and the weight of the lower one. */
function rowTaps(img: RgbImage, rect: Rect, outH: number): { y0: Int32Array; y1: Int32Array; fy: Float64Array } {
  const y0 = new Int32Array(outH);
  const y1 = new Int32Array(outH);
  const fy = new Float64Array(outH);
  const s = rect.height / outH;
  const max = rect.height - 1;
  for (let o = 0; o < outH; o++) {
    const f = Math.min(Math.max((o + 0.5) * s - 0.5, 0), max);
    const i = Math.floor(f);
    y0[o] = (rect.y + i) * img.width * 3;
    y1[o] = (rect.y + Math.min(i + 1, max)) * img.width * 3;
    fy[o] = f - i;
  }
  return { y0, y1, fy };
}

// The two resamplers below are bilinear with half-pixel centres and edge replication inside the rectangle (what
// cv.resize(INTER_LINEAR) does on an ROI). Each keeps its own pixel loop: a shared loop calling back per pixel was
// not inlined by V8 and took 2.6–2.9 ms for the detector's 320×240 input instead of 1.1 ms, with identical output.

/** Bilinear crop-resize straight into a normalised planar tensor. */
export function cropToTensor(img: RgbImage, rect: Rect, outW: number, outH: number, norm: Normalization): Float32Array {
  const plane = outW * outH;
  const out = new Float32Array(3 * plane);
  const [pr, pg, pb] = norm.bgr ? [2 * plane, plane, 0] : [0, plane, 2 * plane];
  const [mr, mg, mb] = norm.mean;
  const [kr, kg, kb] = norm.std.map((v) => 1 / v);
  const { data } = img;
  const { x0, x1, fx } = columnTaps(rect, outW);
  const rows = rowTaps(img, rect, outH);
  for (let oy = 0, i = 0; oy < outH; oy++) {
    const row0 = rows.y0[oy];
    const row1 = rows.y1[oy];
    const wy = rows.fy[oy];
    for (let ox = 0; ox < outW; ox++, i++) {
      const a = row0 + x0[ox];
      const b = row0 + x1[ox];
      const c = row1 + x0[ox];
      const d = row1 + x1[ox];
      const wx = fx[ox];
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      out[pr + i] = (data[a] * w00 + data[b] * w01 + data[c] * w10 + data[d] * w11 - mr) * kr;
      out[pg + i] = (data[a + 1] * w00 + data[b + 1] * w01 + data[c + 1] * w10 + data[d + 1] * w11 - mg) * kg;
      out[pb + i] = (data[a + 2] * w00 + data[b + 2] * w01 + data[c + 2] * w10 + data[d + 2] * w11 - mb) * kb;
    }
  }
  return out;
}

/** Bilinear crop-resize to BT.601 grey, multiplied by `scale`. */
export function cropToGray(img: RgbImage, rect: Rect, outW: number, outH: number, scale: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const { data } = img;
  const { x0, x1, fx } = columnTaps(rect, outW);
  const rows = rowTaps(img, rect, outH);
  for (let oy = 0, i = 0; oy < outH; oy++) {
    const row0 = rows.y0[oy];
    const row1 = rows.y1[oy];
    const wy = rows.fy[oy];
    for (let ox = 0; ox < outW; ox++, i++) {
      const a = row0 + x0[ox];
      const b = row0 + x1[ox];
      const c = row1 + x0[ox];
      const d = row1 + x1[ox];
      const wx = fx[ox];
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const r = data[a] * w00 + data[b] * w01 + data[c] * w10 + data[d] * w11;
      const g = data[a + 1] * w00 + data[b + 1] * w01 + data[c + 1] * w10 + data[d + 1] * w11;
      const bl = data[a + 2] * w00 + data[b + 2] * w01 + data[c + 2] * w10 + data[d + 2] * w11;
      out[i] = (0.299 * r + 0.587 * g + 0.114 * bl) * scale;
    }
  }
  return out;
}

/** Interleaved RGB → normalised planar tensor. */
export function toPlanar(hwc: ArrayLike<number>, size: number, norm: Normalization): Float32Array {
  const out = new Float32Array(size * 3);
  const [pr, pg, pb] = norm.bgr ? [2 * size, size, 0] : [0, size, 2 * size];
  const [mr, mg, mb] = norm.mean;
  const [kr, kg, kb] = norm.std.map((v) => 1 / v);
  for (let i = 0, p = 0; i < size; i++, p += 3) {
    out[pr + i] = (hwc[p] - mr) * kr;
    out[pg + i] = (hwc[p + 1] - mg) * kg;
    out[pb + i] = (hwc[p + 2] - mb) * kb;
  }
  return out;
}

/** BT.601 luma of interleaved RGB. */
export function toGray(hwc: Float32Array | Uint8Array, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0, p = 0; i < size; i++, p += 3) out[i] = 0.299 * hwc[p] + 0.587 * hwc[p + 1] + 0.114 * hwc[p + 2];
  return out;
}

/** Intersection of a rectangle with the image, in integer pixels (may be empty). */
export function clipRect(r: Rect, width: number, height: number): Rect {
  const x0 = Math.max(0, Math.trunc(r.x));
  const y0 = Math.max(0, Math.trunc(r.y));
  const x1 = Math.min(width, Math.trunc(r.x + r.width));
  const y1 = Math.min(height, Math.trunc(r.y + r.height));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

export function softmax(v: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  const e = Array.from(v, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}
