// Pixels for the evaluation set: decoding, camera noise and exposure, JPEG, and re-rendering a frame as another camera.
import sharp, { type Sharp } from 'sharp';
import { random } from '../camera.js';

export interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The page sends at most 640 px on the longer side (src/challenge/README.md). */
export const MAX_SIDE = 640;

export function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** RGB pixels of a JPEG (greyscale pictures come out as three equal channels), optionally resized. */
export function decode(bytes: Buffer, size?: { width: number; height: number; fit: 'cover' | 'inside' }): Promise<Raw> {
  let img = sharp(bytes).rotate();
  if (size) img = img.resize(size.width, size.height, { fit: size.fit });
  return toRaw(img);
}

async function toRaw(img: Sharp): Promise<Raw> {
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** 64 Ki standard-normal samples: camera noise reads the table from a random offset with a random odd stride. */
const NOISE = (() => {
  const rnd = random(99);
  return Float32Array.from({ length: 65536 }, () => gaussian(rnd));
})();

/** Camera noise (Gaussian, σ in grey levels) and a global brightness gain, then JPEG. */
export function encode(img: Raw, rnd: () => number, sigma: number, gain = 1, quality = 88): Promise<Buffer> {
  const out = Buffer.alloc(img.data.length);
  const offset = Math.floor(rnd() * 65536);
  const stride = 2 * Math.floor(rnd() * 1000) + 1;
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(img.data[i] * gain + sigma * NOISE[(offset + i * stride) & 65535])));
  return sharp(out, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** The picture moved by (dx, dy) whole pixels, the edge rows and columns repeated into the gap. */
export function shift(img: Raw, dx: number, dy: number): Raw {
  if (dx === 0 && dy === 0) return img;
  const { width: w, height: h } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(h - 1, Math.max(0, y - dy));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(w - 1, Math.max(0, x - dx));
      const o = (y * w + x) * 3;
      const s = (sy * w + sx) * 3;
      out[o] = img.data[s];
      out[o + 1] = img.data[s + 1];
      out[o + 2] = img.data[s + 2];
    }
  }
  return { ...img, data: out };
}

/** a·(1 − t) + b·t, pixel by pixel (a cross-fade); both pictures of one size. */
export function blend(a: Raw, b: Raw, t: number): Raw {
  if (a.width !== b.width || a.height !== b.height) throw new Error('blend needs pictures of one size');
  return { ...a, data: a.data.map((v, i) => Math.round(v * (1 - t) + b.data[i] * t)) };
}

/** How a camera delivers a picture: mirrored or not, scale, exposure, sensor noise, JPEG quality, position. */
export interface Camera {
  mirror: boolean;
  /** Relative to the source frame; the result never exceeds MAX_SIDE. */
  scale: number;
  gain: number;
  sigma: number;
  quality: number;
  /** Offset of the picture, pixels. */
  dx: number;
  dy: number;
}

/** Decodes a frame as `camera` would see it, before noise: mirrored, scaled (≤ MAX_SIDE), shifted. */
export async function view(frame: Buffer, camera: Pick<Camera, 'mirror' | 'scale' | 'dx' | 'dy'>): Promise<Raw> {
  const meta = await sharp(frame).metadata();
  const scale = Math.min(camera.scale, MAX_SIDE / Math.max(meta.width!, meta.height!));
  let img = sharp(frame).rotate();
  if (camera.mirror) img = img.flop();
  if (scale !== 1) img = img.resize(Math.round(meta.width! * scale));
  return shift(await toRaw(img), camera.dx, camera.dy);
}

/** A frame of a recording re-rendered by another camera: every call gives new noise, so no two frames share bytes. */
export async function shoot(frame: Buffer, camera: Camera, rnd: () => number): Promise<Buffer> {
  return encode(await view(frame, camera), rnd, camera.sigma, camera.gain, camera.quality);
}
