import http from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonBudget } from '../../src/api/json-budget.js';
import { sniffImageFormat } from '../../src/face/index.js';
import { call, fixture, form, startHarness, type Harness } from './harness.js';

const MATCH = '/api/v1/face/match';
const A1 = fixture('person-a-1.jpg');
const A2 = fixture('person-a-2.jpg');
/** What libvips and its loaders say about a file they cannot read: none of it may reach a caller. */
const LIBRARY_TEXT = /vips|libjpeg|jpeg_|premature|rsvg|svgload|tiff|heif|gif|magick|load_buffer|unsupported image format/i;

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness();
  token = await h.addClient('uploads');
});

afterAll(async () => {
  await h?.close();
});

/** Image formats libvips reads that the product does not accept. */
async function otherFormats(): Promise<Record<string, Buffer>> {
  const picture = sharp(A1).resize(320);
  return {
    svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="#888"/></svg>'),
    tiff: await picture.clone().tiff().toBuffer(),
    gif: await picture.clone().gif().toBuffer(),
    avif: await picture.clone().avif().toBuffer(),
  };
}

describe('image signatures', () => {
  it('recognises JPEG, PNG and WebP, and nothing else', async () => {
    expect(sniffImageFormat(A1)).toBe('jpeg');
    expect(sniffImageFormat(await sharp(A1).png().toBuffer())).toBe('png');
    expect(sniffImageFormat(await sharp(A1).webp().toBuffer())).toBe('webp');
    for (const bytes of Object.values(await otherFormats())) expect(sniffImageFormat(bytes)).toBeNull();
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImageFormat(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
  });
});

describe('JSON budget', () => {
  const feed = (budget: JsonBudget, ...parts: string[]) => parts.map((p) => budget.feed(Buffer.from(p))).find(Boolean) ?? null;

  it('counts each image string apart from the rest, across chunks and repeated keys', () => {
    expect(feed(new JsonBudget(10, 100), '{"selfie":"AAAA', 'AAAA", "reference": "BBBBBBBB"}')).toBeNull();
    expect(feed(new JsonBudget(10, 100), '{"selfie":"AAAAAAAA", "selfie": "AAAAAAAA"}')).toBe('selfie');
    expect(feed(new JsonBudget(10, 100), '{"document":"', 'A'.repeat(11), '"}')).toBe('document');
    expect(feed(new JsonBudget(1000, 20), '{"record_identifier":"', 'x'.repeat(30), '"}')).toBe('rest');
  });

  it('counts strings that are no top-level image field, escaped keys included, as the rest', () => {
    expect(feed(new JsonBudget(1000, 40), '{"x":{"selfie":"', 'A'.repeat(50), '"}}')).toBe('rest');
    expect(feed(new JsonBudget(1000, 40), '{"sel\\u0066ie":"', 'A'.repeat(50), '"}')).toBe('rest');
    expect(feed(new JsonBudget(1000, 40), '["selfie","', 'A'.repeat(50), '"]')).toBe('rest');
    expect(feed(new JsonBudget(1000, 40), '{"a":"\\"selfie\\":\\"', 'A'.repeat(50), '"}')).toBe('rest');
  });
});

describe('images accepted by magic bytes', () => {
  it('refuses every other format libvips could read before decoding it', async () => {
    for (const [name, bytes] of Object.entries(await otherFormats())) {
      const res = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: form({ selfie: bytes, reference: A2 }) });
      expect([res.status, res.body.errorCodes], name).toEqual([415, ['SELFIE_UNSUPPORTED_IMAGE']]);
      expect(res.body.message, name).not.toMatch(LIBRARY_TEXT);
      const engine = await h.services.engine.analyze(bytes, 'enroll').then(
        () => null,
        (err: unknown) => err as { code: string; message: string },
      );
      expect(engine?.code, name).toBe('UNSUPPORTED_IMAGE');
    }
  });

  it('accepts JPEG, PNG and WebP', async () => {
    for (const bytes of [A1, await sharp(A1).png().toBuffer(), await sharp(A1).webp().toBuffer()]) {
      const res = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: form({ selfie: bytes, reference: A2 }) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it('never echoes the decoder: a truncated JPEG is only "not a readable image"', async () => {
    const truncated = A1.subarray(0, Math.floor(A1.length / 3));
    const res = await call(`${h.url}${MATCH}`, { method: 'POST', token, body: form({ selfie: A1, reference: truncated }) });
    expect([res.status, res.body.errorCodes]).toEqual([415, ['REFERENCE_UNSUPPORTED_IMAGE']]);
    expect(res.body.message).not.toMatch(LIBRARY_TEXT);
    const err = await h.services.engine.analyze(truncated, 'verify').catch((e: unknown) => e as Error);
    expect((err as Error).message).not.toMatch(LIBRARY_TEXT);
  });
});

/**
 * Streams a chunked JSON body: `head`, then `fill` bytes until the server answers (or `max` bytes are sent).
 * Returns how much had been sent when the answer came.
 */
function streamJson(url: string, head: string, fill: string, max: number) {
  return new Promise<{ status: number; body: { errorCodes: string[] }; sent: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    req.on('response', (res) => {
      answered = true;
      const at = sent;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, body: JSON.parse(text), sent: at });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.from(fill.repeat(64 * 1024));
    const pump = () => {
      while (!answered && sent < max) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.write(head);
    sent += head.length;
    pump();
  });
}

describe('JSON bodies', () => {
  const MB = 1024 * 1024;
  /** What the sockets hold between the client's writes and the server's reads on loopback, counted as sent. */
  const IN_FLIGHT = 8 * MB;
  /** base64 of a 15 MB image, as the server budgets it (line breaks and a data: prefix allowed for). */
  const IMAGE_STRING = Math.ceil((15 * MB) / 3) * 4 * (1 + 1 / 38);
  let url: string;

  let configured: number;
  beforeAll(() => {
    // The production default (15 MB per image), under which a JSON body used to be buffered up to ~63 MB. The API
    // reads the composed configuration per request.
    configured = h.services.config.face.maxUploadBytes;
    h.services.config.face.maxUploadBytes = 15 * MB;
    url = `${h.url}${MATCH}`;
  });
  afterAll(() => {
    h.services.config.face.maxUploadBytes = configured;
  });

  it('refuses more than 1 MB outside the images with 413 while the body is still arriving', async () => {
    const res = await streamJson(url, '{"record_identifier":"', 'x', 80 * MB);
    console.log(`non-image JSON sent before the 413 arrived (socket buffers included): ${(res.sent / MB).toFixed(1)} MB`);
    expect([res.status, res.body.errorCodes]).toEqual([413, ['PAYLOAD_TOO_LARGE']]);
    expect(res.sent).toBeLessThan(1 * MB + IN_FLIGHT);
  });

  it('refuses an image larger than its limit with 413 while the body is still arriving', async () => {
    const res = await streamJson(url, '{"selfie":"', 'A', 80 * MB);
    console.log(`base64 selfie sent before the 413 arrived (socket buffers included): ${(res.sent / MB).toFixed(1)} MB`);
    expect([res.status, res.body.errorCodes]).toEqual([413, ['SELFIE_IMAGE_TOO_LARGE']]);
    expect(res.sent).toBeLessThan(IMAGE_STRING + IN_FLIGHT);
  });

  it('counts every non-image field against the 1 MB, and still takes images up to their limit', async () => {
    const nested = await call(url, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ selfie: A1.toString('base64'), reference: A2.toString('base64'), junk: 'y'.repeat(1.5 * MB) }) });
    expect([nested.status, nested.body.errorCodes]).toEqual([413, ['PAYLOAD_TOO_LARGE']]);
    const fine = await call(url, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ selfie: A1.toString('base64'), reference: A2.toString('base64'), record_identifier: 'ok' }) });
    expect(fine.status).toBe(200);
  });
});
