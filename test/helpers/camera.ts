import { open } from 'node:fs/promises';
import sharp from 'sharp';
// A small deterministic PRNG (mulberry32), so a failing run can be reproduced from its seed: the synthetic documents' own.
import { random } from '../../src/documents/synthetic.js';

export { random };

export interface CameraOptions {
  width?: number;
  height?: number;
  /** Seeds the variation: different seeds never give the same frames. */
  seed?: number;
  /** Largest shift of the picture, pixels (a person never sits perfectly still). */
  maxShift?: number;
  /**
   * `cover` fills the frame like a webcam; `contain` keeps a portrait photo's whole face by adding grey bars. The bars
   * do not decide liveness: measured p(live) of contain-fitted frames is 1.00 for deepface-img1/img2, 0.61–0.97 for
   * silent-face-T1 and 0.00 for deepface-img17, so a test that needs a refusal uses a real attack sample instead.
   */
  fit?: 'cover' | 'contain';
}

export interface FakeCameraOptions extends CameraOptions {
  /** Frames in the file; Chromium loops it, so frames ÷ fps is the period after which captures repeat. */
  frames?: number;
  fps?: number;
}


/**
 * Camera-like RGB frames of a still photo. A still photo would give byte-identical frames, which the replay check
 * rightly refuses; like a real camera, every frame here differs: the picture shifts by a few pixels, exposure
 * drifts by a few percent and sensor noise is added.
 */
async function* frames(photo: string, opts: CameraOptions): AsyncGenerator<Buffer> {
  const { width = 640, height = 480, seed = 1, maxShift = 10, fit = 'cover' } = opts;
  const rand = random(seed);
  const raw = { width: width + 2 * maxShift, height: height + 2 * maxShift, channels: 3 as const };
  const base = await sharp(photo).rotate().resize(raw.width, raw.height, { fit, position: 'attention', background: { r: 128, g: 128, b: 128 } }).removeAlpha().raw().toBuffer();
  for (;;) {
    const left = Math.round(rand() * 2 * maxShift);
    const top = Math.round(rand() * 2 * maxShift);
    const frame = await sharp(base, { raw }).extract({ left, top, width, height }).raw().toBuffer();
    const gain = 0.95 + rand() * 0.1;
    for (let i = 0; i < frame.length; i++) frame[i] = Math.max(0, Math.min(255, Math.round(frame[i] * gain + (rand() - 0.5) * 6)));
    yield frame;
  }
}

/** RGB → I420 with BT.601 studio-swing coefficients, which Chromium assumes for captured video. */
function toI420(rgb: Buffer, width: number, height: number): Buffer {
  const ySize = width * height;
  const cSize = (width / 2) * (height / 2);
  const out = Buffer.alloc(ySize + 2 * cSize);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const [r, g, b] = [rgb[i], rgb[i + 1], rgb[i + 2]];
      out[y * width + x] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
      if (y % 2 === 0 && x % 2 === 0) {
        const c = (y / 2) * (width / 2) + x / 2;
        out[ySize + c] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
        out[ySize + cSize + c] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
      }
    }
  }
  return out;
}

/**
 * Writes a Y4M file for Chromium's `--use-file-for-fake-video-capture` (shared/DESIGN.md §3). At the default
 * 4 fps × 120 frames the file repeats only after 30 s, longer than any one test's captures.
 */
export async function writeFakeCamera(photo: string, file: string, opts: FakeCameraOptions = {}): Promise<void> {
  const { width = 640, height = 480, frames: count = 120, fps = 4 } = opts;
  const fd = await open(file, 'w');
  try {
    await fd.write(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    let n = 0;
    for await (const rgb of frames(photo, opts)) {
      await fd.write('FRAME\n');
      await fd.write(toI420(rgb, width, height));
      if (++n === count) break;
    }
  } finally {
    await fd.close();
  }
}

/** `count` distinct JPEG frames as the page would upload them (quality 0.9), for posting without a browser. */
export async function cameraFrames(photo: string, count: number, opts: CameraOptions = {}): Promise<Buffer[]> {
  const { width = 640, height = 480 } = opts;
  const out: Buffer[] = [];
  for await (const rgb of frames(photo, opts)) {
    out.push(await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    if (out.length === count) break;
  }
  return out;
}
