/** Why a document image could not be read at all (as opposed to a document without a readable MRZ, which is a result). */
export type DocumentErrorCode = 'UNSUPPORTED_IMAGE' | 'PDF_NOT_SUPPORTED' | 'IMAGE_TOO_SMALL' | 'IMAGE_TOO_LARGE' | 'MODEL_INVALID';

export class DocumentError extends Error {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DocumentError';
  }
}
