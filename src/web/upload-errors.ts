import { FaceError, QUALITY_MESSAGES } from '../face/index.js';
import { HttpError } from './errors.js';
import type { MultipartProblem } from './multipart.js';

const ENGINE_MESSAGES = {
  OVERLOADED: 'The server is busy. Try again in a moment.',
  ENGINE_UNAVAILABLE: 'Face checks are unavailable right now. Try again in a few seconds.',
} as const;

/**
 * The face engine's refusals (unreadable or oversized image, overload, a failed worker) as answers a person can act
 * on, for every surface but the Face Match API (which words them per image field in its envelope).
 */
export function faceHttpError(err: FaceError): HttpError {
  const message = err.code === 'UNSUPPORTED_IMAGE' || err.code === 'IMAGE_TOO_LARGE' ? QUALITY_MESSAGES[err.code] : err.code === 'OVERLOADED' ? ENGINE_MESSAGES.OVERLOADED : ENGINE_MESSAGES.ENGINE_UNAVAILABLE;
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

/** How a surface names what it receives, for the wording of upload refusals. */
export interface UploadWording {
  /** "photo" or "picture", as the page calls it. */
  noun: string;
  maxFiles: number;
  /** Code and message for a file over the byte limit. */
  tooLarge: { code: string; message: string };
}

/** A malformed or oversized multipart upload as an HttpError, worded for the surface. */
export function uploadHttpError(p: MultipartProblem, w: UploadWording): HttpError {
  const plural = `${w.noun}${w.maxFiles === 1 ? '' : 's'}`;
  switch (p.kind) {
    case 'file-too-large':
      return new HttpError(413, w.tooLarge.code, w.tooLarge.message);
    case 'too-many-parts':
      return new HttpError(400, 'INVALID_UPLOAD', `Send at most ${w.maxFiles} ${plural} at once.`);
    case 'field-too-long':
      return new HttpError(400, 'INVALID_UPLOAD', `The field ${p.field} is too long.`);
    case 'malformed':
      if (/content-type|boundary/i.test(p.detail)) return new HttpError(400, 'INVALID_UPLOAD', `Send the ${plural} as multipart/form-data.`);
      return new HttpError(400, 'INVALID_UPLOAD', `The upload could not be read. Choose the ${w.noun} again.`);
    case 'interrupted':
      return new HttpError(400, 'INVALID_UPLOAD', 'The upload was interrupted. Try again.');
  }
}
