import { DEFAULT_QUALITY, type QualityCode } from '../face/index.js';

/** The images a request can carry; codes about one image start with its name in capitals. */
export type ImageField = 'selfie' | 'reference' | 'document' | 'document_back';
export const IMAGE_FIELDS: readonly ImageField[] = ['selfie', 'reference', 'document', 'document_back'];

/**
 * What each face-engine quality code means for an API caller. Keyed by QualityCode, so a code added to the engine
 * fails compilation here until it is documented.
 */
export const QUALITY_CODE_DOCS: Record<QualityCode, string> = {
  FACE_NOT_FOUND: 'No face was found in the image.',
  MULTIPLE_FACES: `Another face of comparable size (at least ${DEFAULT_QUALITY.multiFaceMinRatio} of the compared face's) is visible.`,
  FACE_TOO_SMALL: 'The face is too small for a reliable comparison.',
  FACE_CLOSE_TO_BORDER: 'The face is cut off by the image border.',
  FACE_ANGLE: 'The head is turned or tilted too far.',
  TOO_DARK: 'The face is under-exposed.',
  TOO_BRIGHT: 'The face is over-exposed.',
  BLURRY: 'The face is out of focus or moving.',
  EYES_CLOSED: 'The eyes are closed.',
  IMAGE_TOO_LARGE: 'The image exceeds the byte or pixel limit.',
  UNSUPPORTED_IMAGE: 'The file is not a readable JPEG, PNG or WebP image.',
};

/** Codes that end a request with `status: false`; the HTTP status is fixed per code. */
export const REQUEST_ERRORS = {
  INVALID_REQUEST: { status: 400, about: 'The body is malformed or a field is invalid.' },
  SELFIE_REQUIRED: { status: 400, about: 'The selfie image is missing.' },
  REFERENCE_REQUIRED: { status: 400, about: 'Neither a reference image nor user_id / email was sent.' },
  REFERENCE_CONFLICT: { status: 400, about: 'More than one of reference, user_id and email was sent.' },
  UNAUTHORIZED: { status: 401, about: 'No, an unknown, an expired or a revoked access token, or a DPoP-bound one sent as Bearer (or an unbound one as DPoP).' },
  INVALID_DPOP_PROOF: { status: 401, about: 'A DPoP-bound access token came without a valid DPoP proof for this request (RFC 9449: htm, htu, iat, jti, ath, key).' },
  INSUFFICIENT_SCOPE: { status: 403, about: 'The access token lacks the face:match scope.' },
  ENROLLED_MATCH_NOT_ALLOWED: { status: 403, about: 'The app may not match against enrolled accounts (user_id / email); an administrator can allow it.' },
  RECORD_NOT_FOUND: { status: 404, about: 'No match record with this requestId belongs to the calling client.' },
  IMAGE_NOT_FOUND: { status: 404, about: 'No stored image with this key belongs to the calling client.' },
  PAYLOAD_TOO_LARGE: { status: 413, about: 'The request body exceeds its size limit or has too many parts.' },
  SELFIE_IMAGE_TOO_LARGE: { status: 413, about: 'The selfie exceeds the byte or pixel limit.' },
  REFERENCE_IMAGE_TOO_LARGE: { status: 413, about: 'The reference image exceeds the byte or pixel limit.' },
  DOCUMENT_IMAGE_TOO_LARGE: { status: 413, about: 'The document image exceeds the byte or pixel limit.' },
  DOCUMENT_BACK_IMAGE_TOO_LARGE: { status: 413, about: "The document's back exceeds the byte or pixel limit." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, about: 'The body is neither multipart/form-data nor application/json.' },
  SELFIE_UNSUPPORTED_IMAGE: { status: 415, about: 'The selfie is not a readable JPEG, PNG or WebP image.' },
  REFERENCE_UNSUPPORTED_IMAGE: { status: 415, about: 'The reference is not a readable JPEG, PNG or WebP image.' },
  DOCUMENT_UNSUPPORTED_IMAGE: { status: 415, about: 'The document is not a readable JPEG, PNG or WebP image.' },
  DOCUMENT_BACK_UNSUPPORTED_IMAGE: { status: 415, about: "The document's back is not a readable JPEG, PNG or WebP image." },
  DOCUMENT_PDF_NOT_SUPPORTED: { status: 415, about: 'The document is a PDF: send a photo or scan of it as JPEG, PNG or WebP.' },
  DOCUMENT_BACK_PDF_NOT_SUPPORTED: { status: 415, about: "The document's back is a PDF: send a photo or scan of it as JPEG, PNG or WebP." },
  SELFIE_FACE_NOT_FOUND: { status: 422, about: 'No face was found in the selfie.' },
  SELFIE_MULTIPLE_FACES: { status: 422, about: 'The selfie shows two faces of comparable size, so whose face to compare is ambiguous.' },
  REFERENCE_FACE_NOT_FOUND: { status: 422, about: 'No face was found in the reference image.' },
  DOCUMENT_IMAGE_REQUIRED: { status: 400, about: 'The document image is missing.' },
  DOCUMENT_IMAGE_TOO_SMALL: { status: 422, about: 'The document image is too small (under 200 px on a side) for an MRZ to be legible.' },
  DOCUMENT_BACK_IMAGE_TOO_SMALL: { status: 422, about: "The document's back is too small (under 200 px on a side) for an MRZ to be legible." },
  DOCUMENT_NOT_FOUND: { status: 422, about: 'No identity document was found in the image: neither an MRZ nor a portrait.' },
  MRZ_NOT_FOUND: { status: 422, about: 'The image shows a face but no machine-readable zone (send the side that carries it, e.g. as document_back).' },
  MRZ_UNREADABLE: { status: 422, about: 'Lines shaped like an MRZ were found but could not be read: their check digits do not hold (blur, glare, too small).' },
  RATE_LIMITED: { status: 429, about: 'The client exceeded its per-minute request budget or has too many requests in flight; see Retry-After.' },
  INTERNAL_ERROR: { status: 500, about: 'An unexpected server error; the requestId header identifies it in the logs.' },
  OVERLOADED: { status: 503, about: 'The face engine is busy: the call would wait longer than the server allows; retry after Retry-After seconds.' },
  ENGINE_UNAVAILABLE: { status: 503, about: 'The face engine is not ready or failed; retry after Retry-After seconds.' },
  STORE_UNAVAILABLE: { status: 503, about: 'The database or the shared store is briefly unreachable; retry after Retry-After seconds.' },
} as const satisfies Record<string, { status: number; about: string }>;

export type RequestErrorCode = keyof typeof REQUEST_ERRORS;

/** Codes a completed match record can carry besides `<IMAGE>_<quality code>`. */
export const RECORD_CODES = {
  FACE_MISMATCH: 'The selfie and the reference are below the minimum similarity.',
  SELFIE_LIVENESS_FAILED: 'The selfie did not pass the passive liveness check.',
  DOCUMENT_FACE_MISMATCH: "The selfie and the document portrait are below the minimum similarity.",
  DOCUMENT_REQUIRED: "The client's rules require a document image and none was sent.",
  DOCUMENT_MRZ_NOT_FOUND: 'No machine-readable zone was found on the document images.',
  DOCUMENT_MRZ_UNREADABLE: "The document's MRZ could not be read: its check digits do not hold.",
  DOCUMENT_MRZ_CHECK_FAILED: "A check digit of the document's MRZ fails (misprinted, altered or misread; the failing one is in document_data[].mrz_checks), or a code or date in it is no real one, or it reads two ways that both hold (see warnings).",
  DOCUMENT_EXPIRED: 'The document is past its expiry date.',
  SELFIE_OTHER_FACES: 'The selfie shows other, smaller faces besides the compared one (listed in warnings).',
  REFERENCE_OTHER_FACES: 'The reference image shows other faces besides the compared one (listed in warnings).',
  USER_NOT_VERIFIED: 'Matched against an enrolled account: the selfie was not verified as that account. The answer is the same whether the account did not match, does not exist, is disabled, locked or not enrolled; no similarity is given.',
} as const;

export type RecordCode = keyof typeof RECORD_CODES;

export const upper = <F extends ImageField>(field: F) => field.toUpperCase() as Uppercase<F>;

export function imageCode(field: ImageField, code: QualityCode): string {
  return `${upper(field)}_${code}`;
}

/** Every code a record's errorCodes may hold: the OpenAPI enum and the docs table are built from this. */
export function recordCodeCatalogue(): { code: string; about: string }[] {
  // Quality codes come from the compared faces: the document's portrait is on its front.
  const image = IMAGE_FIELDS.filter((f) => f !== 'document_back').flatMap((field) =>
    (Object.entries(QUALITY_CODE_DOCS) as [QualityCode, string][])
      // Images that fail these never produce a record: the request ends with the matching request error instead.
      .filter(([code]) => code !== 'IMAGE_TOO_LARGE' && code !== 'UNSUPPORTED_IMAGE')
      // A selfie or reference without a face ends the request (422), and so does a selfie with two comparable faces;
      // a document's portrait is its largest face whatever else is printed, so only its absence is reported.
      .filter(([code]) => (code !== 'MULTIPLE_FACES' || field === 'reference') && (field === 'document' || code !== 'FACE_NOT_FOUND'))
      .map(([code, about]) => ({ code: imageCode(field, code), about: `${field[0].toUpperCase()}${field.slice(1)}: ${about}` })),
  );
  return [...Object.entries(RECORD_CODES).map(([code, about]) => ({ code, about })), ...image];
}

/** A request that ends with `status: false`; the message is safe to show to the caller. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: RequestErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = REQUEST_ERRORS[code].status;
  }
}
