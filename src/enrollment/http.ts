import busboy from 'busboy';
import type { Context } from 'koa';
import { FaceError, QUALITY_MESSAGES } from '../face/index.js';
import { HttpError } from '../web/errors.js';

export interface PhotoUpload {
  photos: Buffer[];
  fields: Record<string, string>;
}

const MAX_FIELD_BYTES = 4096;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/**
 * Reads photos from a multipart/form-data body. Busboy stops buffering a file at `maxBytes` and discards the rest,
 * so an oversized upload never sits in memory; the body is still read to its end so the 413 reaches the browser
 * on a healthy connection instead of as a reset.
 */
export function readPhotos(ctx: Context, opts: { maxBytes: number; maxFiles: number; field?: string }): Promise<PhotoUpload> {
  const field = opts.field ?? 'photo';
  if (!ctx.request.is('multipart/form-data')) {
    return Promise.reject(new HttpError(415, 'MULTIPART_REQUIRED', 'Send the photo as a file upload (multipart/form-data).'));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { fileSize: opts.maxBytes, files: opts.maxFiles, fields: 10, fieldSize: MAX_FIELD_BYTES, parts: opts.maxFiles + 10 },
      });
    } catch {
      reject(new HttpError(400, 'UPLOAD_INVALID', 'The upload could not be read. Choose the photo again.'));
      return;
    }
    const photos: Buffer[] = [];
    const fields: Record<string, string> = {};
    const pending: Promise<void>[] = [];
    let failure: HttpError | null = null;

    parser.on('file', (name, stream) => {
      if (name !== field) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        chunks.length = 0;
        failure ??= new HttpError(413, 'PHOTO_TOO_LARGE', `A photo is larger than the limit of ${megabytes(opts.maxBytes)}. Choose a smaller photo (a camera picture of up to 1280 pixels is plenty).`);
      });
      pending.push(
        new Promise((done) =>
          stream.on('end', () => {
            const data = Buffer.concat(chunks);
            if (!stream.truncated && data.length > 0) photos.push(data);
            done();
          }),
        ),
      );
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('filesLimit', () => {
      failure ??= new HttpError(413, 'TOO_MANY_PHOTOS', `Send at most ${opts.maxFiles} photo${opts.maxFiles === 1 ? '' : 's'} at once.`);
    });
    parser.on('error', () => {
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(new HttpError(400, 'UPLOAD_INVALID', 'The upload could not be read. Choose the photo again.'));
    });
    parser.on('close', () => {
      void Promise.all(pending).then(() => {
        if (failure) reject(failure);
        else if (photos.length === 0) reject(new HttpError(400, 'PHOTO_REQUIRED', 'Choose a photo first.'));
        else resolve({ photos, fields });
      });
    });
    ctx.req.on('error', reject);
    ctx.req.pipe(parser);
  });
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
