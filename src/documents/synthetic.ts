import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { composeMrz, type MrzContent } from './compose.js';
import { ISO_STATE_CODES } from './countries.js';
import type { MrzFormat } from './layouts.js';

/**
 * Synthetic identity documents for development, tests and the benchmark: a portrait, printed fields and an MRZ with
 * correct check digits in OCR-B (Debian's `fonts-ocr-b`), photographed: turned by a multiple of 90° and a little
 * more, sheared as a tilted camera does, blurred, with glare, noise and JPEG. Nothing here is a real document.
 */

/** A small deterministic PRNG (mulberry32), so a seed names a document. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = ['ERIKSSON', 'NGUYEN', 'OKAFOR', 'MUELLER', 'GARCIA LOPEZ', 'KOWALSKA', 'TANAKA', 'DUBOIS', 'OBRIEN', 'SILVA', 'HAUGEN', 'PETROVA', 'MARTINEZ', 'ABDULLAH', 'VAN DER BERG', 'ROSSI', 'JOHANSSON', 'KIM', 'MENSAH', 'ZIMMERMANN'];
const GIVEN = ['ANNA MARIA', 'JOHN', 'WEI', 'CHIDI', 'SOPHIE', 'LUCAS', 'AIKO', 'MATEUS', 'FATIMA', 'OLIVIA GRACE', 'IVAN', 'EMMA', 'NOAH', 'LEILA', 'PIETER JAN', 'GIULIA', 'KWAME', 'YUKI', 'SARA', 'HANS PETER'];

/** Physical size in mm (ICAO Doc 9303 parts 4–7) and the document code each format carries. */
const FORMAT: Record<MrzFormat, { w: number; h: number; code: string[]; title: string }> = {
  TD3: { w: 125, h: 88, code: ['P', 'PP', 'PD'], title: 'PASSPORT' },
  TD2: { w: 105, h: 74, code: ['I', 'ID', 'AC'], title: 'IDENTITY CARD' },
  TD1: { w: 85.6, h: 54, code: ['I', 'ID', 'IR', 'AR'], title: 'IDENTITY CARD' },
  MRVA: { w: 120, h: 80, code: ['V', 'VA'], title: 'VISA' },
  MRVB: { w: 105, h: 74, code: ['V', 'VB'], title: 'VISA' },
};
/** Pixels per millimetre of the flat rendering; an MRZ character pitch is 2.54 mm (10 per inch). */
const PX = 10;
const PITCH = 2.54 * PX;

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const pad2 = (n: number) => String(n).padStart(2, '0');
const yymmdd = (d: Date) => `${pad2(d.getUTCFullYear() % 100)}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;

/** Plausible holder data; `expired` puts the expiry in the past. */
export function randomContent(rnd: () => number, format: MrzFormat, opts: { expired?: boolean; now?: Date } = {}): MrzContent {
  const now = opts.now ?? new Date();
  const birth = new Date(Date.UTC(1950 + Math.floor(rnd() * 55), Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
  const years = opts.expired ? -(1 + Math.floor(rnd() * 5)) : 1 + Math.floor(rnd() * 9);
  const expiry = new Date(Date.UTC(now.getUTCFullYear() + years, Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
  const state = pick(rnd, [...ISO_STATE_CODES.slice(0, 40), 'D', 'UTO', ...ISO_STATE_CODES.slice(40)]);
  const alnum = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
  let number = pick(rnd, ['', 'C', 'X', 'L']);
  while (number.length < 8 + Math.floor(rnd() * 2)) number += alnum[Math.floor(rnd() * alnum.length)]!;
  const personal = rnd() < 0.5 ? '' : String(Math.floor(rnd() * 1e9)).padStart(9, '0');
  return {
    documentCode: pick(rnd, FORMAT[format].code),
    issuingState: state.padEnd(3, '<'),
    surname: pick(rnd, SURNAMES),
    givenNames: pick(rnd, GIVEN),
    documentNumber: number,
    nationality: (rnd() < 0.8 ? state : pick(rnd, ISO_STATE_CODES)).padEnd(3, '<'),
    birthDate: yymmdd(birth),
    sex: pick(rnd, ['M', 'F', 'F', 'M', '<'] as const),
    expiryDate: yymmdd(expiry),
    optional1: personal,
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The flat, upright document as PNG, with the MRZ lines it carries. */
export async function renderDocument(format: MrzFormat, content: MrzContent, portrait: Buffer, rnd: () => number, opts: { mrz?: string[] } = {}): Promise<{ png: Buffer; mrz: string[] }> {
  const f = FORMAT[format];
  const W = Math.round(f.w * PX);
  const H = Math.round(f.h * PX);
  // `opts.mrz` prints other lines than the content's own (a doctored check digit, for tests).
  const mrz = opts.mrz ?? composeMrz(format, content);
  const lineGap = 4.2 * PX;
  // ICAO puts the last MRZ line's baseline several millimetres above the lower edge.
  const mrzTop = H - 3 * PX - lineGap * mrz.length;
  const left = (W - mrz[0]!.length * PITCH) / 2;
  const hue = Math.floor(rnd() * 360);
  const photo = { x: 0.05 * W, y: 0.2 * H, w: 0.26 * W, h: Math.min(0.34 * W, mrzTop - 0.24 * H) };
  const tx = photo.x + photo.w + 0.05 * W;
  const printed: [string, string][] = [
    ['Surname', content.surname],
    ['Given names', content.givenNames],
    ['Nationality', content.nationality.replace(/</g, '')],
    ['Date of birth', content.birthDate],
    ['Sex', content.sex === '<' ? 'X' : content.sex],
    ['Document no.', content.documentNumber],
    ['Date of expiry', content.expiryDate],
  ];
  const rowH = (mrzTop - 0.22 * H) / printed.length;
  const guilloche = Array.from({ length: 14 }, (_, i) => {
    const y = (i + 0.5) * (H / 14);
    return `<path d="M0 ${y} C ${W / 3} ${y - 40 + 80 * rnd()}, ${(2 * W) / 3} ${y + 40 - 80 * rnd()}, ${W} ${y}" stroke="hsl(${hue},45%,78%)" stroke-width="2" fill="none"/>`;
  }).join('');
  const mrzText = mrz
    .map((line, r) =>
      [...line].map((c, i) => `<text x="${(left + i * PITCH + PITCH / 2).toFixed(1)}" y="${(mrzTop + (r + 1) * lineGap - 0.9 * PX).toFixed(1)}">${esc(c)}</text>`).join(''),
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},40%,93%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},35%,88%)"/></linearGradient></defs>
  <rect width="${W}" height="${H}" rx="${3 * PX}" fill="url(#bg)"/>${guilloche}
  <text x="${0.05 * W}" y="${0.12 * H}" font-family="DejaVu Sans" font-weight="bold" font-size="${0.05 * H}" fill="hsl(${hue},50%,30%)">${esc(f.title)} · ${esc(content.issuingState.replace(/</g, ''))}</text>
  ${printed
    .map(
      ([label, value], i) =>
        `<text x="${tx}" y="${0.22 * H + i * rowH + 0.35 * rowH}" font-family="DejaVu Sans" font-size="${0.3 * rowH}" fill="hsl(${hue},30%,40%)">${esc(label)}</text>` +
        `<text x="${tx}" y="${0.22 * H + i * rowH + 0.8 * rowH}" font-family="DejaVu Sans" font-size="${0.42 * rowH}" fill="#1a1a1a">${esc(value)}</text>`,
    )
    .join('')}
  <rect x="0" y="${mrzTop}" width="${W}" height="${H - mrzTop}" fill="hsl(${hue},20%,96%)" opacity="0.7"/>
  <g font-family="OCR B" font-size="${3.4 * PX}" fill="#111" text-anchor="middle">${mrzText}</g>
</svg>`;
  const face = await sharp(portrait).autoOrient().resize(Math.round(photo.w), Math.round(photo.h), { fit: 'cover', position: 'attention' }).modulate({ saturation: 0.85 }).toBuffer();
  const png = await sharp(Buffer.from(svg))
    .composite([{ input: face, left: Math.round(photo.x), top: Math.round(photo.y) }])
    .png()
    .toBuffer();
  return { png, mrz };
}

export interface Photograph {
  /** Quarter turns clockwise (0–3) and a further angle in degrees. */
  quarterTurns: number;
  angle: number;
  /** Horizontal shear as a tilted camera's keystone, roughly (−0.2…0.2). */
  shear: number;
  /** The document's share of the photo's width (0.4–0.95). */
  fill: number;
  /** Longest side of the photo in pixels. */
  size: number;
  blur: number;
  glare: number;
  noise: number;
  jpegQuality: number;
}

/** Random photography within the ranges the reader must handle. */
export function randomPhotograph(rnd: () => number): Photograph {
  return {
    quarterTurns: Math.floor(rnd() * 4),
    angle: (rnd() * 2 - 1) * 12,
    shear: (rnd() * 2 - 1) * 0.12,
    fill: 0.55 + rnd() * 0.4,
    size: Math.round(600 + rnd() * rnd() * 3400),
    blur: rnd() < 0.4 ? 0 : rnd() * 1.4,
    glare: rnd() < 0.5 ? 0 : 0.3 + rnd() * 0.5,
    noise: rnd() * 14,
    jpegQuality: Math.round(55 + rnd() * 40),
  };
}

/** A background for the photo: a table or a wall, with some texture. */
async function background(width: number, height: number, rnd: () => number): Promise<Sharp> {
  const hue = Math.floor(rnd() * 360);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="${rnd()}" y2="1"><stop offset="0" stop-color="hsl(${hue},${10 + rnd() * 30}%,${25 + rnd() * 50}%)"/><stop offset="1" stop-color="hsl(${(hue + 30) % 360},${10 + rnd() * 30}%,${20 + rnd() * 50}%)"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`;
  return sharp(Buffer.from(svg));
}

/** Photographs a flat document: turns, shears, scales and places it on a background, then degrades the picture. */
export async function photograph(flat: Buffer, p: Photograph, rnd: () => number): Promise<Buffer> {
  return (await photographWithCorners(flat, p, rnd)).jpeg;
}

/** A point in the photo's pixels. */
export type Point = [x: number, y: number];

/**
 * `photograph`, and where the flat document's corners (top left, top right, bottom right, bottom left of the upright
 * document) land in the photo: the same shear, turn, resize and offset applied to them, for scoring crops. The
 * photo is the same one `photograph` makes for the same arguments (noise aside: sharp draws it afresh each time).
 */
export async function photographWithCorners(flat: Buffer, p: Photograph, rnd: () => number, opts: { background?: string } = {}): Promise<{ jpeg: Buffer; corners: Point[] }> {
  const meta = await sharp(flat).metadata();
  const docLong = Math.max(meta.width!, meta.height!);
  const turned = await sharp(flat)
    .affine([1, p.shear, 0, 1], { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .rotate(p.quarterTurns * 90 + p.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer({ resolveWithObject: true });
  const canvasW = Math.round(turned.info.width / p.fill);
  const canvasH = Math.round(turned.info.height / p.fill);
  const scale = p.size / Math.max(canvasW, canvasH);
  const W = Math.round(canvasW * scale);
  const H = Math.round(canvasH * scale);
  const doc = await sharp(turned.data).resize(Math.max(1, Math.round(turned.info.width * scale)), Math.max(1, Math.round(turned.info.height * scale))).png().toBuffer({ resolveWithObject: true });
  const left = Math.round((W - doc.info.width) * (0.3 + 0.4 * rnd()));
  const top = Math.round((H - doc.info.height) * (0.3 + 0.4 * rnd()));
  const layers: OverlayOptions[] = [{ input: doc.data, left, top }];
  // sharp runs its operations in a fixed order, whatever the calls' order: the turn first, onto the turned document's
  // bounding box, then the shear of that whole box, onto its own bounding box (checked on a solid rectangle's alpha).
  // The corners go the same way, then are scaled and placed as the document was.
  const t = ((p.quarterTurns * 90 + p.angle) * Math.PI) / 180;
  const rotated = ([[0, 0], [meta.width!, 0], [meta.width!, meta.height!], [0, meta.height!]] as Point[]).map(([x, y]): Point => [x * Math.cos(t) - y * Math.sin(t), x * Math.sin(t) + y * Math.cos(t)]);
  const minX = Math.min(...rotated.map((c) => c[0]));
  const minY = Math.min(...rotated.map((c) => c[1]));
  const boxH = Math.max(...rotated.map((c) => c[1])) - minY;
  const shift = -Math.min(0, p.shear * boxH);
  const corners = rotated.map(([x, y]): Point => {
    const [bx, by] = [x - minX, y - minY];
    return [left + ((bx + p.shear * by + shift) * doc.info.width) / turned.info.width, top + (by * doc.info.height) / turned.info.height];
  });
  if (p.glare > 0) {
    const cx = W * (0.2 + 0.6 * rnd());
    const cy = H * (0.2 + 0.6 * rnd());
    const r = Math.max(W, H) * (0.15 + 0.2 * rnd());
    const glare = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><defs><radialGradient id="g"><stop offset="0" stop-color="#fff" stop-opacity="${p.glare}"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs><ellipse cx="${cx}" cy="${cy}" rx="${r}" ry="${r * 0.6}" fill="url(#g)"/></svg>`;
    layers.push({ input: Buffer.from(glare) });
  }
  if (p.noise > 0) {
    const noise = await sharp({ create: { width: W, height: H, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: p.noise } } }).png().toBuffer();
    layers.push({ input: noise, blend: 'overlay' });
  }
  // `opts.background`: a plain colour instead of the random gradient (as light as the page, for the edge search's tests).
  const ground = await background(W, H, rnd);
  let img: Sharp = (opts.background ? sharp({ create: { width: W, height: H, channels: 3, background: opts.background } }) : ground).composite(layers);
  img = sharp(await img.png().toBuffer());
  if (p.blur >= 0.3) img = img.blur(p.blur * Math.max(1, p.size / docLong));
  return { jpeg: await img.jpeg({ quality: p.jpegQuality }).toBuffer(), corners };
}

/** A photo without any document: a synthetic landscape (sky, hills, sun), for the false-MRZ side of evaluations. */
export async function renderLandscape(rnd: () => number, size = 1200): Promise<Buffer> {
  const W = size;
  const H = Math.round(size * (0.6 + 0.3 * rnd()));
  const hills = Array.from({ length: 3 }, (_, i) => {
    const base = H * (0.55 + 0.12 * i);
    const pts = Array.from({ length: 9 }, (_, k) => `${(k * W) / 8},${base - rnd() * H * 0.2}`).join(' ');
    return `<polygon points="0,${H} ${pts} ${W},${H}" fill="hsl(${90 + rnd() * 60},${30 + 30 * rnd()}%,${20 + 12 * i}%)"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${200 + rnd() * 30},70%,${45 + rnd() * 20}%)"/><stop offset="1" stop-color="hsl(${30 + rnd() * 20},60%,85%)"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#s)"/><circle cx="${W * rnd()}" cy="${H * 0.25}" r="${H * 0.06}" fill="#fff6c0"/>${hills}</svg>`;
  const noise = await sharp({ create: { width: W, height: H, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 10 } } }).png().toBuffer();
  return sharp(Buffer.from(svg)).composite([{ input: noise, blend: 'overlay' }]).jpeg({ quality: 85 }).toBuffer();
}

export const FORMATS: readonly MrzFormat[] = ['TD3', 'TD1', 'TD2', 'MRVA', 'MRVB'];

/**
 * Writes `count` photographed synthetic documents (formats in turn, portraits from `faces` in turn) and `nonDocuments`
 * landscapes into `outDir`, with `list.tsv` in the `document-eval` format. The seed decides everything.
 */
export async function buildSyntheticSet(faces: Buffer[], outDir: string, opts: { count: number; nonDocuments: number; seed: number }): Promise<string> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(outDir, { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const rnd = random(opts.seed * 100_003 + i);
    const format = FORMATS[i % FORMATS.length]!;
    const { png, mrz } = await renderDocument(format, randomContent(rnd, format), faces[i % faces.length]!, rnd);
    const name = `doc-${String(i).padStart(4, '0')}.jpg`;
    await writeFile(`${outDir}/${name}`, await photograph(png, randomPhotograph(rnd), rnd));
    rows.push(`${name}\t${mrz.join('^')}`);
  }
  for (let i = 0; i < opts.nonDocuments; i++) {
    const rnd = random(opts.seed * 7919 + i);
    const name = `landscape-${String(i).padStart(3, '0')}.jpg`;
    await writeFile(`${outDir}/${name}`, await renderLandscape(rnd, Math.round(600 + rnd() * 1400)));
    rows.push(`${name}\t-`);
  }
  const list = `${outDir}/list.tsv`;
  await writeFile(list, rows.join('\n') + '\n');
  return list;
}
