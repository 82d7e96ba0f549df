export type FaceErrorCode = 'UNSUPPORTED_IMAGE' | 'IMAGE_TOO_LARGE' | 'OVERLOADED' | 'ENGINE_UNAVAILABLE' | 'MODEL_INVALID';

/** HTTP status each code maps to (the HTTP layer adds Retry-After from `retryAfter`). */
export const FACE_ERROR_STATUS: Record<FaceErrorCode, number> = {
  UNSUPPORTED_IMAGE: 415,
  IMAGE_TOO_LARGE: 413,
  OVERLOADED: 503,
  ENGINE_UNAVAILABLE: 503,
  MODEL_INVALID: 500,
};

export class FaceError extends Error {
  readonly code: FaceErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (OVERLOADED, ENGINE_UNAVAILABLE). */
  readonly retryAfter?: number;

  constructor(code: FaceErrorCode, message: string, opts: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FaceError';
    this.code = code;
    this.status = FACE_ERROR_STATUS[code];
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }
}

/** Errors cross the worker boundary as plain objects; this shape survives structured cloning. */
export interface SerializedFaceError {
  faceError: { code: FaceErrorCode; message: string };
}

export function isSerializedFaceError(v: unknown): v is SerializedFaceError {
  return typeof v === 'object' && v !== null && 'faceError' in v;
}
