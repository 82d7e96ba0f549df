import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/face/decode.js';
import { cosine, createFaceEngine, FaceError, type FaceEngine } from '../../src/face/index.js';
import { fixture, MODELS_DIR } from './helpers.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A valid 1-bit greyscale PNG of `size`² black pixels: tens of kilobytes that would expand to gigabytes as RGB. */
function pngBomb(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((1 + Math.ceil(size / 8)) * size); // filter byte 0 + zero bits on every row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

let engine: FaceEngine;
beforeAll(async () => {
  engine = await createFaceEngine({ modelsDir: MODELS_DIR, poolSize: 1 });
});
afterAll(async () => {
  await engine?.close();
});

async function rejection(p: Promise<unknown>): Promise<FaceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FaceError);
  return err as FaceError;
}

describe('bad input', () => {
  it('rejects an empty body as UNSUPPORTED_IMAGE (415)', async () => {
    const err = await rejection(engine.analyze(Buffer.alloc(0), 'verify'));
    expect(err).toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 415 });
  });

  it('rejects bytes that are no image', async () => {
    const err = await rejection(engine.analyze(Buffer.from('{"selfie": "not really"}'), 'verify'));
    expect(err).toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 415 });
  });

  it('rejects a truncated JPEG', async () => {
    const jpeg = fixture('silent-face-T1.jpg');
    const err = await rejection(engine.analyze(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'verify'));
    expect(err.code).toBe('UNSUPPORTED_IMAGE');
  });

  it('rejects a 9000×9000 PNG as IMAGE_TOO_LARGE (413) without decoding it', async () => {
    const png = await sharp({ create: { width: 9000, height: 9000, channels: 3, background: '#808080' } }).png().toBuffer();
    const err = await rejection(engine.analyze(png, 'verify'));
    expect(err).toMatchObject({ code: 'IMAGE_TOO_LARGE', status: 413 });
  });

  it('rejects a decompression bomb from its header', async () => {
    const bomb = pngBomb(20_000);
    expect(bomb.length).toBeLessThan(200_000);
    const err = await rejection(engine.analyze(bomb, 'verify'));
    expect(err.code).toBe('IMAGE_TOO_LARGE');
    // Refused from the header: 400 MP would need 1.2 GB decoded, and nothing near that was allocated.
    expect(process.memoryUsage().rss).toBeLessThan(1024 ** 3);
  });

  it('rejects a body over the byte limit before it reaches a worker', async () => {
    const err = await rejection(engine.analyze(Buffer.alloc(16 * 1024 * 1024, 1), 'verify'));
    expect(err.code).toBe('IMAGE_TOO_LARGE');
    await expect(decodeImage(fixture('deepface-img2.jpg'), { maxBytes: 1000, maxPixels: 40e6 })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('analyses a 1×1 image cleanly as FACE_NOT_FOUND', async () => {
    const a = await engine.analyze(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer(), 'verify');
    expect(a).toMatchObject({ width: 1, height: 1, faces: [], face: null, embedding: null });
    expect(a.quality.issues.map((i) => i.code)).toEqual(['FACE_NOT_FOUND']);
  });

  it('uses the first frame of an animated WebP', async () => {
    const face = await sharp(fixture('deepface-img2.jpg')).resize(320).png().toBuffer();
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#404040' } }).png().toBuffer();
    const webp = await sharp([face, blank], { join: { animated: true } }).webp().toBuffer();
    expect((await sharp(webp).metadata()).pages).toBe(2);
    const a = await engine.analyze(webp, 'verify');
    expect([a.width, a.height]).toEqual([320, 240]);
    expect(a.faces).toHaveLength(1);
    const w = await sharp([blank, face], { join: { animated: true } }).webp().toBuffer();
    expect((await engine.analyze(w, 'verify')).faces).toHaveLength(0);
  });

  it('refuses GIF, TIFF and SVG by their signature, with no decoder text', async () => {
    const picture = sharp(fixture('deepface-img2.jpg')).resize(320);
    const others = [await picture.clone().gif().toBuffer(), await picture.clone().tiff().toBuffer(), Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')];
    for (const bytes of others) {
      const err = await rejection(engine.analyze(bytes, 'verify'));
      expect(err).toMatchObject({ code: 'UNSUPPORTED_IMAGE', message: 'The image is not a JPEG, PNG or WebP file' });
      await expect(decodeImage(bytes, { maxBytes: 1e7, maxPixels: 40e6 })).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE' });
    }
  });

  it('converts CMYK, greyscale, 16-bit and alpha images', async () => {
    const src = fixture('deepface-img2.jpg');
    const reference = (await engine.analyze(src, 'enroll')).embedding!;
    const variants = {
      cmyk: await sharp(src).toColourspace('cmyk').jpeg().toBuffer(),
      grey: await sharp(src).greyscale().jpeg().toBuffer(),
      rgb16: await sharp(src).toColourspace('rgb16').png().toBuffer(),
      alpha: await sharp(src).ensureAlpha(0.4).png().toBuffer(),
    };
    expect((await sharp(variants.cmyk).metadata()).space).toBe('cmyk');
    for (const [name, bytes] of Object.entries(variants)) {
      const a = await engine.analyze(bytes, 'enroll');
      expect(a.faces, name).toHaveLength(1);
      expect(cosine(a.embedding!, reference), name).toBeGreaterThan(0.85);
    }
  });

  it('leaves no worker busy or hung afterwards', async () => {
    const results = await Promise.allSettled([
      engine.analyze(Buffer.from('garbage'), 'verify'),
      engine.analyze(pngBomb(12_000), 'verify'),
      engine.analyze(fixture('deepface-img2.jpg'), 'verify'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(engine.stats()).toMatchObject({ queued: 0, running: 0 });
    expect(engine.ready).toBe(true);
  });
});
