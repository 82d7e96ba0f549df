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

/**
 * Bilinear resize of `rect` to outW×outH with half-pixel centres and edge replication inside the rectangle
 * (what cv.resize(INTER_LINEAR) does on an ROI). `emit(i, r, g, b)` receives output pixel i in row-major order.
 */
function resizeBilinear(img: RgbImage, rect: Rect, outW: number, outH: number, emit: (i: number, r: number, g: number, b: number) => void): void {
  const { data, width } = img;
  const { x0, x1, fx } = columnTaps(rect, outW);
  const sy = rect.height / outH;
  const maxY = rect.height - 1;
  for (let oy = 0, i = 0; oy < outH; oy++) {
    const f = Math.min(Math.max((oy + 0.5) * sy - 0.5, 0), maxY);
    const iy = Math.floor(f);
    const wy = f - iy;
    const row0 = (rect.y + iy) * width * 3;
    const row1 = (rect.y + Math.min(iy + 1, maxY)) * width * 3;
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
      emit(
        i,
        data[a] * w00 + data[b] * w01 + data[c] * w10 + data[d] * w11,
        data[a + 1] * w00 + data[b + 1] * w01 + data[c + 1] * w10 + data[d + 1] * w11,
        data[a + 2] * w00 + data[b + 2] * w01 + data[c + 2] * w10 + data[d + 2] * w11,
      );
    }
  }
}

/** Bilinear crop-resize straight into a normalised planar tensor. */
export function cropToTensor(img: RgbImage, rect: Rect, outW: number, outH: number, norm: Normalization): Float32Array {
  const plane = outW * outH;
  const out = new Float32Array(3 * plane);
  const [pr, pg, pb] = norm.bgr ? [2 * plane, plane, 0] : [0, plane, 2 * plane];
  const [mr, mg, mb] = norm.mean;
  const [kr, kg, kb] = norm.std.map((v) => 1 / v);
  resizeBilinear(img, rect, outW, outH, (i, r, g, b) => {
    out[pr + i] = (r - mr) * kr;
    out[pg + i] = (g - mg) * kg;
    out[pb + i] = (b - mb) * kb;
  });
  return out;
}

/** Bilinear crop-resize to BT.601 grey, multiplied by `scale`. */
export function cropToGray(img: RgbImage, rect: Rect, outW: number, outH: number, scale: number): Float32Array {
  const out = new Float32Array(outW * outH);
  resizeBilinear(img, rect, outW, outH, (i, r, g, b) => {
    out[i] = (0.299 * r + 0.587 * g + 0.114 * b) * scale;
  });
  return out;
}

/**
 * Area-average resize of the whole image (cv INTER_AREA): every source pixel contributes by its coverage,
 * so a 12 MP photo shrunk to the detector's 320×240 does not alias. Returns interleaved RGB floats.
 */
export function resizeArea(img: RgbImage, outW: number, outH: number): Float32Array {
  const { data, width, height } = img;
  const cols = areaWeights(width, outW);
  const rows = areaWeights(height, outH);
  const out = new Float32Array(outW * outH * 3);
  const line = new Float32Array(outW * 3);
  for (let y = 0; y < height; y++) {
    line.fill(0);
    const rowStart = y * width * 3;
    for (let i = 0; i < cols.src.length; i++) {
      const s = rowStart + cols.src[i] * 3;
      const d = cols.dst[i] * 3;
      const w = cols.weight[i];
      line[d] += data[s] * w;
      line[d + 1] += data[s + 1] * w;
      line[d + 2] += data[s + 2] * w;
    }
    for (let i = rows.first[y]; i < rows.first[y + 1]; i++) {
      const d = rows.dst[i] * outW * 3;
      const w = rows.weight[i];
      for (let j = 0; j < line.length; j++) out[d + j] += line[j] * w;
    }
  }
  return out;
}

/** Coverage weights of source pixels over destination pixels along one axis, grouped by source index. */
function areaWeights(n: number, outN: number): { src: Int32Array; dst: Int32Array; weight: Float32Array; first: Int32Array } {
  const scale = n / outN;
  const src: number[] = [];
  const dst: number[] = [];
  const weight: number[] = [];
  const first = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) {
    first[s] = src.length;
    const d0 = Math.floor(s / scale);
    const d1 = Math.min(outN - 1, Math.floor((s + 1) / scale - 1e-9));
    for (let d = d0; d <= d1; d++) {
      const w = (Math.min(s + 1, (d + 1) * scale) - Math.max(s, d * scale)) / scale;
      if (w > 0) {
        src.push(s);
        dst.push(d);
        weight.push(w);
      }
    }
  }
  first[n] = src.length;
  return { src: Int32Array.from(src), dst: Int32Array.from(dst), weight: Float32Array.from(weight), first };
}

/** Interleaved RGB floats → normalised planar tensor. */
export function toPlanar(hwc: Float32Array, size: number, norm: Normalization): Float32Array {
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
