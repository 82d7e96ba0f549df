// Attacks with one photo of a person (static_photo, planar_warp, photo_animation): the photo as a print held still,
// turned and tilted like a print, or with its nose and mouth pushed along each movement by a mesh warp.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FaceEngine } from '../../../src/face/index.js';
import { random } from '../camera.js';
import { randomChallenge, type Movement } from './challenges.js';
import { decode, encode, gaussian, type Raw } from './image.js';
import type { AddSequence } from './types.js';

const W = 640;
const H = 480;
const FPS = 6;

function bilinear(src: Raw, x: number, y: number, out: Uint8Array, o: number): boolean {
  if (x < 0 || y < 0 || x > src.width - 1 || y > src.height - 1) return false;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, src.width - 1);
  const y1 = Math.min(y0 + 1, src.height - 1);
  const fx = x - x0;
  const fy = y - y0;
  for (let c = 0; c < 3; c++) {
    const a = src.data[(y0 * src.width + x0) * 3 + c];
    const b = src.data[(y0 * src.width + x1) * 3 + c];
    const d = src.data[(y1 * src.width + x0) * 3 + c];
    const e = src.data[(y1 * src.width + x1) * 3 + c];
    out[o + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
  }
  return true;
}

type M3 = number[];
function mul(a: M3, b: M3): M3 {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}
function inv(m: M3): M3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

/** A print of `src` (scale s, centred, shifted tx/ty) turned by yaw/pitch/roll degrees, seen by a pinhole camera (f 600 px). */
function printView(src: Raw, bg: Raw, yaw: number, pitch: number, roll: number, s: number, tx: number, ty: number): Raw {
  const f = 600;
  const r = Math.PI / 180;
  const [cy, sy, cp, sp, cr, sr] = [Math.cos(yaw * r), Math.sin(yaw * r), Math.cos(pitch * r), Math.sin(pitch * r), Math.cos(roll * r), Math.sin(roll * r)];
  const R = mul([cr, -sr, 0, sr, cr, 0, 0, 0, 1], mul([1, 0, 0, 0, cp, -sp, 0, sp, cp], [cy, 0, sy, 0, 1, 0, -sy, 0, cy]));
  const h = mul([f, 0, W / 2, 0, f, H / 2, 0, 0, 1], mul([R[0], R[1], tx, R[3], R[4], ty, R[6], R[7], f], [s, 0, (-s * src.width) / 2, 0, s, (-s * src.height) / 2, 0, 0, 1]));
  const hi = inv(h);
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const w = hi[6] * x + hi[7] * y + hi[8];
      const o = (y * W + x) * 3;
      if (!bilinear(src, (hi[0] * x + hi[1] * y + hi[2]) / w, (hi[3] * x + hi[4] * y + hi[5]) / w, out, o)) {
        out[o] = bg.data[o];
        out[o + 1] = bg.data[o + 1];
        out[o + 2] = bg.data[o + 2];
      }
    }
  }
  return { data: out, width: W, height: H };
}

interface FaceGeometry {
  iod: number;
  eyeY: number;
  nose: [number, number];
  chinY: number;
}

/**
 * Weights of a "photo animation" mesh warp that moves the nose and mouth and leaves the eyes and brows in place:
 * 0 above the eye line, rising to 1 at the nose tip, fading below the chin; Gaussian across the face.
 */
function noseAndMouthWeights(width: number, height: number, g: FaceGeometry): Float32Array {
  const w = new Float32Array(width * height);
  const top = g.eyeY + 0.1 * g.iod;
  const span = Math.max(1, g.nose[1] - top);
  const sigma = 0.55 * g.iod;
  for (let y = 0; y < height; y++) {
    const t = (y - top) / span;
    const wy = t <= 0 ? 0 : t < 1 ? t * t * (3 - 2 * t) : y > g.chinY ? Math.max(0, 1 - (y - g.chinY) / (0.5 * g.iod)) : 1;
    if (wy === 0) continue;
    for (let x = 0; x < width; x++) w[y * width + x] = wy * Math.exp(-((x - g.nose[0]) ** 2) / (2 * sigma * sigma));
  }
  return w;
}

/** Pushes the weighted region by (dx, dy) pixels. */
function meshWarp(src: Raw, weights: Float32Array, dx: number, dy: number): Raw {
  const out = new Uint8Array(src.data);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w < 1e-3) continue;
    const x = i % src.width;
    const y = (i - x) / src.width;
    bilinear(src, x - dx * w, y - dy * w, out, i * 3);
  }
  return { ...src, data: out };
}

/** Amplitude 0..1 over a challenge: for each movement ramp up, hold, ramp down, with frontal frames around. */
function schedule(movements: Movement[], rnd: () => number): { movement: Movement | null; amount: number }[] {
  const frames: { movement: Movement | null; amount: number }[] = [];
  const still = (n: number) => {
    for (let i = 0; i < n; i++) frames.push({ movement: null, amount: 0 });
  };
  still(4);
  for (const m of movements) {
    const ramp = 3 + Math.floor(rnd() * 3);
    for (let i = 1; i <= ramp; i++) frames.push({ movement: m, amount: i / ramp });
    for (let i = 0; i < 2; i++) frames.push({ movement: m, amount: 1 });
    for (let i = ramp - 1; i >= 0; i--) frames.push({ movement: m, amount: i / ramp });
    still(2);
  }
  still(3);
  return frames;
}

/** First photo of each deepface identity (by file name), as the victims of the photo attacks. */
export async function stills(deepface: string): Promise<string[]> {
  const rows = (await readFile(path.join(deepface, 'manifest_identity.csv'), 'utf8')).trim().split('\n').slice(1);
  const first = new Map<string, string>();
  const byName = rows.map((r) => r.split(',')).sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }));
  for (const [file, person] of byName) if (!first.has(person)) first.set(person, path.join(deepface, file));
  return [...first.values()];
}

async function faceGeometry(engine: FaceEngine, img: Raw): Promise<FaceGeometry | null> {
  const jpeg = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  const a = await engine.analyze(jpeg, 'verify');
  const lm = a.face?.landmarks68;
  if (!lm) return null;
  const eye = (idx: number[]) => [idx.reduce((s, i) => s + lm[i][0], 0) / idx.length, idx.reduce((s, i) => s + lm[i][1], 0) / idx.length];
  const l = eye([37, 38, 40, 41]);
  const r = eye([43, 44, 46, 47]);
  return { iod: Math.hypot(r[0] - l[0], r[1] - l[1]), eyeY: (l[1] + r[1]) / 2, nose: [lm[30][0], lm[30][1]], chinY: lm[8][1] };
}

/** The photo cropped to the head and shoulders (4:3): what a print held close to the camera, or a virtual camera, shows. */
export async function headAndShoulders(engine: FaceEngine, file: string): Promise<Buffer> {
  const photo = await readFile(file);
  const box = (await engine.analyze(photo, 'verify')).face?.box;
  if (!box) throw new Error(`no face in ${file}`);
  const { width: pw, height: ph } = (await sharp(photo).rotate().metadata()).autoOrient;
  const ch = Math.min(ph, Math.round(box.height * 2));
  const cw = Math.min(pw, Math.round((ch * 4) / 3));
  const left = Math.round(Math.min(Math.max(0, box.x + box.width / 2 - cw / 2), pw - cw));
  const top = Math.round(Math.min(Math.max(0, box.y + box.height * 0.45 - ch / 2), ph - ch));
  return sharp(photo).rotate().extract({ left, top, width: cw, height: ch }).jpeg({ quality: 95 }).toBuffer();
}

/**
 * On the first photo of each deepface person (13): 6 static photos (the still with tremor and camera noise), 8 planar
 * warps (a print turned and tilted 30–55° the way each movement asks, drifting), 8 photo animations (nose and mouth
 * pushed 0.35–0.55 inter-eye distances along each movement).
 */
export async function photoAttacks(deepface: string, engine: FaceEngine, add: AddSequence): Promise<void> {
  const photos = await stills(deepface);
  const attackRnd = random(7);
  for (const [i, file] of photos.entries()) {
    const name = path.basename(file, '.jpg');
    const cropped = await headAndShoulders(engine, file);
    const src = await decode(cropped, { width: 520, height: 520, fit: 'inside' });
    const background = await decode(await sharp(Buffer.from(src.data), { raw: { width: src.width, height: src.height, channels: 3 } }).blur(25).modulate({ brightness: 0.6 }).jpeg().toBuffer(), { width: W, height: H, fit: 'cover' });
    const scale = Math.min(W / src.width, H / src.height) * (0.85 + 0.1 * attackRnd());
    const challenge = randomChallenge(attackRnd);
    if (i < 6) {
      // The same still shown to the camera: hand tremor of a pixel or two, camera noise.
      const frames: Buffer[] = [];
      for (let k = 0; k < 24; k++) {
        const view = printView(src, background, 0, 0, 0.3 * gaussian(attackRnd), scale, 1.5 * gaussian(attackRnd), 1.5 * gaussian(attackRnd));
        frames.push(await encode(view, attackRnd, 3, 1 + 0.02 * gaussian(attackRnd)));
      }
      await add('static_photo', name, frames, challenge.join(','), FPS, file);
    }
    if (i < 8) {
      // A print turned and tilted the way each movement asks, 30–55°, drifting in the frame.
      const peak = 30 + 25 * attackRnd();
      const frames: Buffer[] = [];
      for (const [k, s] of schedule(challenge, attackRnd).entries()) {
        const a = peak * s.amount;
        const yaw = s.movement === 'left' ? -a : s.movement === 'right' ? a : 0;
        const pitch = s.movement === 'up' ? a : s.movement === 'down' ? -a : 0;
        const view = printView(src, background, yaw, pitch, 2 * Math.sin(k / 3), scale, 12 * Math.sin(k / 5), 6 * Math.sin(k / 7));
        frames.push(await encode(view, attackRnd, 3, 1 + 0.02 * gaussian(attackRnd)));
      }
      await add('planar_warp', name, frames, challenge.join(','), FPS, file);
    }
    if (i >= photos.length - 8) {
      // Nose and mouth pushed along each movement by 0.35–0.55 inter-eye distances.
      const full = await decode(cropped, { width: W, height: H, fit: 'cover' });
      const g = await faceGeometry(engine, full);
      if (!g) continue;
      const weights = noseAndMouthWeights(full.width, full.height, g);
      const peak = 0.35 + 0.2 * attackRnd();
      const frames: Buffer[] = [];
      for (const s of schedule(challenge, attackRnd)) {
        const a = peak * s.amount;
        const dx = s.movement === 'left' ? a : s.movement === 'right' ? -a : 0;
        const dy = s.movement === 'up' ? -a : s.movement === 'down' ? a : 0;
        frames.push(await encode(meshWarp(full, weights, dx * g.iod, dy * g.iod), attackRnd, 3));
      }
      await add('photo_animation', name, frames, challenge.join(','), FPS, file);
    }
  }
}
