/**
 * Grey-level morphology and connected components on 8-bit single-channel images (row-major), for finding the MRZ
 * band. Min and max filters are separable and use van Herk/Gil-Werman, so their cost does not grow with the window.
 */

export interface Grey {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Running min or max over windows of `size` along one line of `n` values (strided), written into `out`. */
function line1d(src: Uint8Array, out: Uint8Array, offset: number, stride: number, n: number, size: number, max: boolean, buf: Uint8Array, g: Uint8Array, h: Uint8Array): void {
  const r = size >> 1;
  const m = n + 2 * r;
  buf.fill(max ? 0 : 255, 0, m);
  for (let i = 0; i < n; i++) buf[r + i] = src[offset + i * stride]!;
  if (max) {
    for (let i = 0; i < m; i++) g[i] = i % size === 0 ? buf[i]! : Math.max(g[i - 1]!, buf[i]!);
    for (let i = m - 1; i >= 0; i--) h[i] = i === m - 1 || (i + 1) % size === 0 ? buf[i]! : Math.max(h[i + 1]!, buf[i]!);
    for (let i = 0; i < n; i++) out[offset + i * stride] = Math.max(h[i]!, g[Math.min(m - 1, i + size - 1)]!);
  } else {
    for (let i = 0; i < m; i++) g[i] = i % size === 0 ? buf[i]! : Math.min(g[i - 1]!, buf[i]!);
    for (let i = m - 1; i >= 0; i--) h[i] = i === m - 1 || (i + 1) % size === 0 ? buf[i]! : Math.min(h[i + 1]!, buf[i]!);
    for (let i = 0; i < n; i++) out[offset + i * stride] = Math.min(h[i]!, g[Math.min(m - 1, i + size - 1)]!);
  }
}

/** Min (erode) or max (dilate) filter with a `kw`×`kh` rectangle. */
export function rectFilter(img: Grey, kw: number, kh: number, max: boolean): Grey {
  const { width: w, height: hgt } = img;
  const tmp = new Uint8Array(w * hgt);
  const out = new Uint8Array(w * hgt);
  const g = new Uint8Array(Math.max(w, hgt) + Math.max(kw, kh) + 2);
  const h = new Uint8Array(g.length);
  const buf = new Uint8Array(g.length);
  if (kw > 1) for (let y = 0; y < hgt; y++) line1d(img.data, tmp, y * w, 1, w, kw, max, buf, g, h);
  else tmp.set(img.data);
  if (kh > 1) for (let x = 0; x < w; x++) line1d(tmp, out, x, w, hgt, kh, max, buf, g, h);
  else out.set(tmp);
  return { data: out, width: w, height: hgt };
}

/** Closing (dilate then erode): fills dark gaps narrower than the rectangle. */
export const close = (img: Grey, kw: number, kh: number) => rectFilter(rectFilter(img, kw, kh, true), kw, kh, false);

/** Black-hat: what closing fills, i.e. dark strokes thinner than the rectangle on a lighter surround. */
export function blackhat(img: Grey, kw: number, kh: number): Grey {
  const closed = close(img, kw, kh);
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = closed.data[i]! - img.data[i]!;
  return { data: out, width: img.width, height: img.height };
}

/** Otsu's threshold of the histogram. */
export function otsu(img: Grey): number {
  const hist = new Float64Array(256);
  for (const v of img.data) hist[v]!++;
  const total = img.data.length;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * hist[i]!;
  let sumB = 0;
  let wB = 0;
  let best = 0;
  let threshold = 0;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const between = wB * wF * (sumB / wB - (sum - sumB) / wF) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

export function binarise(img: Grey, threshold: number): Grey {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i]! > threshold ? 255 : 0;
  return { data: out, width: img.width, height: img.height };
}

/** A connected set of set pixels with its second moments (for its orientation and extent). */
export interface Component {
  area: number;
  cx: number;
  cy: number;
  /** Orientation of the major axis in radians (image y down). */
  angle: number;
  /** Extent along the major and minor axes (max − min of the projections). */
  length: number;
  thickness: number;
}

/**
 * Each 8-connected region of set (non-zero) pixels, as the row-major indices of its pixels. The array is reused:
 * use it before asking for the next region.
 */
function* regions(img: Grey): Generator<number[]> {
  const { width: w, height: h, data } = img;
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const members: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (data[start] === 0 || seen[start]) continue;
    let sp = 0;
    stack[sp++] = start;
    seen[start] = 1;
    members.length = 0;
    while (sp > 0) {
      const p = stack[--sp]!;
      members.push(p);
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (data[q] !== 0 && !seen[q]) {
            seen[q] = 1;
            stack[sp++] = q;
          }
        }
      }
    }
    yield members;
  }
}

/** 8-connected components of the set (255) pixels with at least `minArea` pixels. */
export function components(img: Grey, minArea: number): Component[] {
  const w = img.width;
  const out: Component[] = [];
  for (const members of regions(img)) {
    const area = members.length;
    if (area < minArea) continue;
    let sx = 0;
    let sy = 0;
    for (const p of members) {
      sx += p % w;
      sy += Math.floor(p / w);
    }
    const cx = sx / area;
    const cy = sy / area;
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (const p of members) {
      const dx = (p % w) - cx;
      const dy = Math.floor(p / w) - cy;
      xx += dx * dx;
      yy += dy * dy;
      xy += dx * dy;
    }
    const angle = 0.5 * Math.atan2(2 * xy, xx - yy);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of members) {
      const dx = (p % w) - cx;
      const dy = Math.floor(p / w) - cy;
      const u = dx * c + dy * s;
      const v = -dx * s + dy * c;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    out.push({ area, cx, cy, angle, length: maxU - minU + 1, thickness: maxV - minV + 1 });
  }
  return out;
}

/**
 * Keeps the 8-connected set regions the size of a printed character: clears those whose bounding box is longer
 * than `maxExtent` on either side (edges of the document and of the portrait, ruled lines, guilloches, which would
 * otherwise join the characters) and those of fewer than `minArea` pixels (sensor noise and JPEG specks, which
 * would bridge the gaps between lines).
 */
export function keepCharacterSized(img: Grey, minArea: number, maxExtent: number): Grey {
  const { width: w, height: h } = img;
  const data = new Uint8Array(img.data);
  for (const members of regions(img)) {
    let x0 = w;
    let x1 = 0;
    let y0 = h;
    let y1 = 0;
    for (const p of members) {
      const x = p % w;
      const y = (p - x) / w;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (x1 - x0 > maxExtent || y1 - y0 > maxExtent || members.length < minArea) for (const p of members) data[p] = 0;
  }
  return { data, width: w, height: h };
}
