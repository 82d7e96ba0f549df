import type { IncomingMessage } from 'node:http';
import sharp, { type Metadata } from 'sharp';
import { QUALITY_MESSAGES, sniffImageFormat } from '../face/index.js';
import { HttpError } from '../web/errors.js';
import { MultipartError, readMultipart } from '../web/multipart.js';
import { uploadHttpError } from '../web/upload-errors.js';

/** Longest side of a frame; the page captures at most this, and larger pictures only cost decoding time. */
export const MAX_FRAME_SIDE = 1280;
/** A 1280-px JPEG at quality 0.9 weighs 0.2–0.5 MB; anything much larger is not a camera frame. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
const MAX_FIELD = 512;

export interface Upload {
  fields: Record<string, string>;
  frames: Buffer[];
}

/** Reads a multipart body of text fields and up to `maxFrames` files named `frame`. */
export async function readFrames(req: IncomingMessage, maxFrames: number): Promise<Upload> {
  let body;
  try {
    body = await readMultipart(req, { acceptFile: (name) => name === 'frame', maxFileBytes: MAX_FRAME_BYTES, maxFiles: maxFrames, maxFields: 4, maxFieldBytes: MAX_FIELD });
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    throw uploadHttpError(err.problem, {
      noun: 'picture',
      maxFiles: maxFrames,
      tooLarge: { code: 'IMAGE_TOO_LARGE', message: `${QUALITY_MESSAGES.IMAGE_TOO_LARGE} A frame may have at most ${MAX_FRAME_BYTES} bytes.` },
    });
  }
  if (body.files.length === 0) throw new HttpError(400, 'FRAME_MISSING', 'No picture was received. Try again.');
  return { fields: body.fields, frames: body.files.map((f) => f.data) };
}

/**
 * Refuses what is not a JPEG, PNG or WebP picture by its signature, before any decoder reads it, then reads only
 * the header: a frame larger than a camera frame is refused too.
 */
export async function inspectFrame(frame: Buffer): Promise<void> {
  const unsupported = () => new HttpError(415, 'UNSUPPORTED_IMAGE', QUALITY_MESSAGES.UNSUPPORTED_IMAGE);
  if (!sniffImageFormat(frame)) throw unsupported();
  let meta: Metadata;
  try {
    meta = await sharp(frame).metadata();
  } catch {
    throw unsupported();
  }
  if (Math.max(meta.width ?? 0, meta.height ?? 0) > MAX_FRAME_SIDE) {
    throw new HttpError(413, 'IMAGE_TOO_LARGE', `${QUALITY_MESSAGES.IMAGE_TOO_LARGE} Frames may be at most ${MAX_FRAME_SIDE} pixels wide or high.`);
  }
}
