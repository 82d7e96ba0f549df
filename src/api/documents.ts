import { DOCUMENT_FIELD_DOCS, DocumentError, type DocumentFields, type DocumentReading, type FieldConfidence, type ReadStatus } from '../documents/index.js';
import type { Admission, Analysis } from '../face/index.js';
import { faceApiError } from './analyze.js';
import type { ApiDeps } from './deps.js';
import { ApiError, upper } from './errors.js';

/** The images that can carry an identity document: its front (with the portrait) and, for cards, its back. */
export type DocumentField = 'document' | 'document_back';

/** What the sent document images establish together. */
export interface DocumentEvidence {
  /** The best MRZ reading of the sent images (the front's when both carry one), or null when neither shows one. */
  reading: DocumentReading | null;
  /** The image whose MRZ was read. */
  mrzSide: DocumentField | null;
  /** MRZ status over both images. */
  status: ReadStatus;
  /** The portrait: the largest face on the front, searched on the deskewed document first. */
  portrait: Analysis | null;
  /** The image the portrait analysis ran on (its box refers to it). */
  portraitImage: Buffer | null;
}

const RANK: Record<ReadStatus, number> = { read: 3, checks_failed: 2, unreadable: 1, not_found: 0 };

function toApiError(field: DocumentField, err: unknown): unknown {
  if (!(err instanceof DocumentError)) return err;
  const f = upper(field);
  switch (err.code) {
    case 'PDF_NOT_SUPPORTED':
      return new ApiError(`${f}_PDF_NOT_SUPPORTED`, `${field}: ${err.message}`);
    case 'IMAGE_TOO_SMALL':
      return new ApiError(`${f}_IMAGE_TOO_SMALL`, `${field}: ${err.message}`);
    case 'IMAGE_TOO_LARGE':
      return new ApiError(`${f}_IMAGE_TOO_LARGE`, `${field}: ${err.message}`);
    case 'UNSUPPORTED_IMAGE':
      return new ApiError(`${f}_UNSUPPORTED_IMAGE`, `${field} is not a readable JPEG, PNG or WebP image`);
    default:
      return err;
  }
}

/**
 * Reads the MRZ of the front and (optional) back, and finds the portrait on the front: on the deskewed document
 * when its MRZ told how the photo is turned (a face detector does not find a face lying on its side), else on the
 * photo as sent. Unusable images end the request with `<FIELD>_…` codes. The first portrait analysis uses the
 * request's `admission` when it reserved one (a Face Match request does), so it keeps the request's place.
 */
export async function examineDocument(
  deps: Pick<ApiDeps, 'documents' | 'engine'>,
  images: Partial<Record<DocumentField, Buffer>>,
  admission?: Admission,
): Promise<DocumentEvidence> {
  const fields = (['document', 'document_back'] as const).filter((f) => images[f]);
  const settled = await Promise.allSettled(fields.map((f) => deps.documents.read(images[f]!, { crops: true })));
  const readings: Partial<Record<DocumentField, DocumentReading>> = {};
  settled.forEach((s, i) => {
    if (s.status === 'rejected') throw toApiError(fields[i]!, s.reason);
    readings[fields[i]!] = s.value;
  });
  let mrzSide: DocumentField | null = null;
  for (const f of fields) if (RANK[readings[f]!.status] > RANK[mrzSide ? readings[mrzSide]!.status : 'not_found']) mrzSide = f;
  const reading = mrzSide ? readings[mrzSide]! : null;

  let portrait: Analysis | null = null;
  let portraitImage: Buffer | null = null;
  const front = images.document;
  if (front) {
    // The engine's refusals (busy, unavailable) answer as on the faces' images: 503 with Retry-After.
    const analyze = (image: Buffer) => deps.engine.analyze(image, 'match', { admission }).catch((err: unknown) => Promise.reject(faceApiError('document', err)));
    const deskewed = readings.document?.crops?.front;
    if (deskewed) {
      const a = await analyze(deskewed);
      if (a.face) [portrait, portraitImage] = [a, deskewed];
    }
    if (!portrait) {
      const a = await analyze(front);
      [portrait, portraitImage] = [a, front];
    }
  }
  return { reading, mrzSide, status: reading?.status ?? 'not_found', portrait, portraitImage };
}

/** No MRZ and no face on the front: not a document at all (a landscape, a blank page). */
export function requireDocument(e: DocumentEvidence): void {
  if (e.status === 'not_found' && !e.portrait?.face) throw new ApiError('DOCUMENT_NOT_FOUND', 'no identity document was found in the image: no MRZ and no portrait');
}

const CHECK_NAMES: Record<string, string> = { documentNumber: 'document_number', birthDate: 'date_of_birth', expiryDate: 'expiry_date', optional1: 'personal_number', composite: 'composite' };

type Nullable<T> = { [K in keyof T]: T[K] | null };

/** The document's part of the record: MRZ fields (all null when no MRZ was read), confidence per field, the checks. */
export interface DocumentRecordFields extends Nullable<DocumentFields> {
  mrz_status: ReadStatus;
  mrz_side: 'front' | 'back' | null;
  /** Each check digit of the MRZ by field, and whether the document is within its validity. */
  mrz_checks: Record<string, boolean>;
  document_data_confidence: Partial<FieldConfidence>;
}

export function documentRecordFields(e: DocumentEvidence): DocumentRecordFields {
  const r = e.reading;
  const checks = Object.fromEntries((r?.checks ?? []).map((c) => [CHECK_NAMES[c.name] ?? c.name, c.valid]));
  if (r?.fields?.expired != null) checks.not_expired = !r.fields.expired;
  return {
    mrz_status: e.status,
    mrz_side: e.mrzSide === 'document' ? 'front' : e.mrzSide === 'document_back' ? 'back' : null,
    ...(Object.fromEntries(Object.keys(DOCUMENT_FIELD_DOCS).map((k) => [k, null])) as Nullable<DocumentFields>),
    ...(r?.fields ?? {}),
    mrz_checks: checks,
    document_data_confidence: r?.confidence ?? {},
  };
}

/** What a reviewer should know about the document's MRZ besides the codes. */
export function documentWarnings(e: DocumentEvidence): string[] {
  const failed = (e.reading?.checks ?? []).filter((c) => !c.valid).map((c) => c.name);
  const out: string[] = [];
  if (e.status === 'checks_failed' && failed.length > 0) out.push(`Document: the MRZ check digit(s) for ${failed.join(', ')} do not hold.`);
  if (e.status === 'checks_failed' && e.reading!.implausible.length > 0) out.push(`Document: the MRZ holds no real ${e.reading!.implausible.join(', ')} (misread or altered).`);
  if (e.status === 'checks_failed' && e.reading!.ambiguous) out.push('Document: the MRZ reads two ways that both hold every check digit.');
  if (e.reading?.fields?.expired) out.push(`Document: expired on ${e.reading.fields.expiry_date}.`);
  if (e.reading && e.reading.corrections.length > 0) out.push(`Document: ${e.reading.corrections.length} MRZ character(s) read as their look-alike where the field requires it.`);
  return out;
}
