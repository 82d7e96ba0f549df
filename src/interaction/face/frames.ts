import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import sharp, { type Metadata } from 'sharp';
import { QUALITY_MESSAGES } from '../../face/index.js';
import { HttpError } from '../../web/errors.js';

/** Longest side of a frame; the page captures at most this, and larger pictures only cost decoding time. */
export const MAX_FRAME_SIDE = 1280;
/** A 1280-px JPEG at quality 0.9 weighs 0.2–0.5 MB; anything much larger is not a camera frame. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
const FORMATS = new Set(['jpeg', 'png', 'webp']);
const MAX_FIELD = 512;

export interface Upload {
  fields: Record<string, string>;
  frames: Buffer[];
}

const invalid = (message: string) => new HttpError(400, 'INVALID_UPLOAD', message);

/**
 * Reads a multipart body of text fields and up to `maxFrames` files named `frame`. A file stops being buffered at
 * the size limit and the rest of the body is still read, so the error response reaches the client on a healthy
 * connection.
 */
export function readFrames(req: IncomingMessage, maxFrames: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: maxFrames, fileSize: MAX_FRAME_BYTES, fields: 4, fieldSize: MAX_FIELD, parts: maxFrames + 4 } });
    } catch {
      reject(invalid('Send the pictures as multipart/form-data.'));
      return;
    }
    const upload: Upload = { fields: {}, frames: [] };
    const pending: Promise<void>[] = [];
    let failure: HttpError | null = null;
    const fail = (err: HttpError) => {
      failure ??= err;
    };
    parser.on('file', (name, stream) => {
      if (name !== 'frame') {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        chunks.length = 0;
        fail(new HttpError(413, 'IMAGE_TOO_LARGE', `${QUALITY_MESSAGES.IMAGE_TOO_LARGE} A frame may have at most ${MAX_FRAME_BYTES} bytes.`));
      });
      pending.push(
        new Promise((done) =>
          stream.on('end', () => {
            if (!stream.truncated) upload.frames.push(Buffer.concat(chunks));
            done();
          }),
        ),
      );
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(invalid(`The field ${name} is too long.`));
      upload.fields[name] = value;
    });
    const tooMany = () => fail(invalid(`Send at most ${maxFrames} picture${maxFrames > 1 ? 's' : ''}.`));
    parser.on('filesLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', () => {
      req.unpipe(parser);
      req.resume();
      reject(invalid('The upload is malformed.'));
    });
    parser.on('close', () => {
      void Promise.all(pending).then(() => {
        if (failure) reject(failure);
        else if (upload.frames.length === 0) reject(new HttpError(400, 'FRAME_MISSING', 'No picture was received. Try again.'));
        else resolve(upload);
      });
    });
    req.on('error', reject);
    req.pipe(parser);
  });
}

/** Reads only the header: refuses what is not a JPEG, PNG or WebP picture, or is larger than a camera frame. */
export async function inspectFrame(frame: Buffer): Promise<void> {
  let meta: Metadata;
  try {
    meta = await sharp(frame).metadata();
  } catch {
    throw new HttpError(415, 'UNSUPPORTED_IMAGE', QUALITY_MESSAGES.UNSUPPORTED_IMAGE);
  }
  if (!meta.format || !FORMATS.has(meta.format)) throw new HttpError(415, 'UNSUPPORTED_IMAGE', QUALITY_MESSAGES.UNSUPPORTED_IMAGE);
  if (Math.max(meta.width ?? 0, meta.height ?? 0) > MAX_FRAME_SIDE) {
    throw new HttpError(413, 'IMAGE_TOO_LARGE', `${QUALITY_MESSAGES.IMAGE_TOO_LARGE} Frames may be at most ${MAX_FRAME_SIDE} pixels wide or high.`);
  }
}
