import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectFrame, MAX_FRAME_BYTES, readFrames } from '../../src/interaction/frames.js';

function multipart(parts: { name: string; value: string | Buffer; file?: boolean }[], boundary = 'xyz'): IncomingMessage {
  const chunks = parts.flatMap((p) => [
    `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.file ? '; filename="f.jpg"\r\nContent-Type: image/jpeg' : ''}\r\n\r\n`,
    p.value,
    '\r\n',
  ]);
  const body = Buffer.concat([...chunks, `--${boundary}--\r\n`].map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  return Object.assign(Readable.from([body]), { headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) } }) as unknown as IncomingMessage;
}

describe('frame uploads', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

  it('reads fields and up to the allowed number of frames, in order', async () => {
    const upload = await readFrames(multipart([{ name: 'capture_token', value: 'tok' }, { name: 'frame', value: jpeg, file: true }, { name: 'frame', value: Buffer.from('b'), file: true }]), 3);
    expect(upload.fields).toEqual({ capture_token: 'tok' });
    expect(upload.frames.map((f) => f.length)).toEqual([4, 1]);
  });

  it('refuses too many, oversized, missing frames and bodies that are not multipart', async () => {
    const frame = { name: 'frame', value: jpeg, file: true };
    await expect(readFrames(multipart([frame, frame]), 1)).rejects.toMatchObject({ status: 400, code: 'INVALID_UPLOAD' });
    await expect(readFrames(multipart([{ ...frame, value: Buffer.alloc(MAX_FRAME_BYTES + 1) }]), 3)).rejects.toMatchObject({ status: 413, code: 'IMAGE_TOO_LARGE' });
    await expect(readFrames(multipart([{ name: 'capture_token', value: 'tok' }]), 3)).rejects.toMatchObject({ status: 400, code: 'FRAME_MISSING' });
    const json = Object.assign(Readable.from(['{}']), { headers: { 'content-type': 'application/json' } }) as unknown as IncomingMessage;
    await expect(readFrames(json, 3)).rejects.toMatchObject({ status: 400, code: 'INVALID_UPLOAD' });
  });

  it('accepts camera-sized JPEG, PNG and WebP pictures only', async () => {
    const picture = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#777' } });
    await expect(inspectFrame(await picture(640, 480).jpeg().toBuffer())).resolves.toBeUndefined();
    await expect(inspectFrame(await picture(1280, 720).webp().toBuffer())).resolves.toBeUndefined();
    await expect(inspectFrame(await picture(1281, 720).png().toBuffer())).rejects.toMatchObject({ status: 413, code: 'IMAGE_TOO_LARGE' });
    await expect(inspectFrame(await picture(64, 64).gif().toBuffer())).rejects.toMatchObject({ status: 415, code: 'UNSUPPORTED_IMAGE' });
    await expect(inspectFrame(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'))).rejects.toMatchObject({ status: 415 });
    await expect(inspectFrame(Buffer.from('hello'))).rejects.toMatchObject({ status: 415, code: 'UNSUPPORTED_IMAGE' });
  });
});
