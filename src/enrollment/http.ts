import type { Context } from 'koa';
import { FaceError, QUALITY_MESSAGES } from '../face/index.js';
import { HttpError } from '../web/errors.js';
import { MultipartError, readMultipart } from '../web/multipart.js';

export interface PhotoUpload {
  photos: Buffer[];
  fields: Record<string, string>;
}

const MAX_FIELD_BYTES = 4096;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/** Reads photos from a multipart/form-data body, with the size limit enforced while streaming. */
export async function readPhotos(ctx: Context, opts: { maxBytes: number; maxFiles: number; field?: string }): Promise<PhotoUpload> {
  const field = opts.field ?? 'photo';
  if (!ctx.request.is('multipart/form-data')) {
    throw new HttpError(415, 'MULTIPART_REQUIRED', 'Send the photo as a file upload (multipart/form-data).');
  }
  let body;
  try {
    body = await readMultipart(ctx.req, { acceptFile: (name) => name === field, maxFileBytes: opts.maxBytes, maxFiles: opts.maxFiles, maxFields: 10, maxFieldBytes: MAX_FIELD_BYTES });
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    if (err.problem.kind === 'file-too-large') {
      throw new HttpError(413, 'PHOTO_TOO_LARGE', `A photo is larger than the limit of ${megabytes(opts.maxBytes)}. Choose a smaller photo (a camera picture of up to 1280 pixels is plenty).`);
    }
    if (err.problem.kind === 'too-many-parts') throw new HttpError(413, 'TOO_MANY_PHOTOS', `Send at most ${opts.maxFiles} photo${opts.maxFiles === 1 ? '' : 's'} at once.`);
    throw new HttpError(400, 'UPLOAD_INVALID', 'The upload could not be read. Choose the photo again.');
  }
  // Browsers send an empty part for an empty file input.
  const photos = body.files.map((f) => f.data).filter((d) => d.length > 0);
  if (photos.length === 0) throw new HttpError(400, 'PHOTO_REQUIRED', 'Choose a photo first.');
  return { photos, fields: body.fields };
}

/** The face engine's refusals (unreadable or oversized image, overload) as answers a person can act on. */
export function faceHttpError(err: FaceError): HttpError {
  const message =
    err.code === 'IMAGE_TOO_LARGE' || err.code === 'UNSUPPORTED_IMAGE'
      ? QUALITY_MESSAGES[err.code]
      : 'Face checks are busy or unavailable right now. Try again in a few seconds.';
  return new HttpError(err.status, err.code, message, err.retryAfter ? { 'Retry-After': String(err.retryAfter) } : {});
}

/** Runs a face-engine call, turning its FaceError into an HttpError. */
export async function withFaceErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof FaceError ? faceHttpError(err) : err;
  }
}
