import type { Context } from 'koa';
import { HttpError } from '../web/errors.js';
import { MultipartError, readMultipart } from '../web/multipart.js';
import { uploadHttpError } from '../web/upload-errors.js';

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
    throw uploadHttpError(err.problem, {
      noun: 'photo',
      maxFiles: opts.maxFiles,
      tooLarge: { code: 'PHOTO_TOO_LARGE', message: `A photo is larger than the limit of ${megabytes(opts.maxBytes)}. Choose a smaller photo (a camera picture of up to 1280 pixels is plenty).` },
    });
  }
  // Browsers send an empty part for an empty file input.
  const photos = body.files.map((f) => f.data).filter((d) => d.length > 0);
  if (photos.length === 0) throw new HttpError(400, 'PHOTO_REQUIRED', 'Choose a photo first.');
  return { photos, fields: body.fields };
}
