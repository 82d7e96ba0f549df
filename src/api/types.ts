/** The Face Match API's wire types; src/api/openapi.ts documents the same shapes. */

export type Decision = 'ACCEPTED' | 'REVIEW' | 'DECLINED';

/** Both figures are 0–100 with one decimal; see the OpenAPI document for their definitions. */
export interface Score {
  similarity: number;
  confidence: number;
}

/** Against an enrolled account, a selfie that is not verified as the account gets no figures to climb. */
export interface WithheldScore {
  similarity: null;
  confidence: null;
}

/**
 * The identity document: the portrait's comparison with the selfie and what its MRZ says (src/api/documents.ts:
 * every field of src/documents' DocumentFields, `mrz_status`, `mrz_side`, `mrz_checks`, `document_data_confidence`).
 */
export interface DocumentData extends DocumentRecordFields {
  documentName: 'document';
  side: 'front';
  face_found: boolean;
  document_face_match: Score | null;
  passed: boolean;
}

export type { DeviceDetails } from '../web/device.js';
import type { DocumentRecordFields } from './documents.js';
import type { DeviceDetails } from '../web/device.js';

export interface ImageRef {
  documentName: 'selfie' | 'reference' | 'cropped_portrait' | 'cropped_front' | 'cropped_mrz';
  side: 'front' | 'back' | null;
  key: string;
}

export interface VerificationSummary {
  face_verified: boolean;
  selfie_liveness_verified: boolean | null;
  document_verified: boolean | null;
  verification_rules_passed: boolean;
  document_liveness_verified: boolean | null;
  image_quality: boolean;
}

export interface MatchRecordBody {
  requestId: string;
  record_identifier: string | null;
  reference: { source: 'image' | 'enrolled'; user_id: string | null };
  face_match: Score | WithheldScore;
  document_data: DocumentData[];
  selfie_data: { liveness_pass: boolean | null; liveness_score: number | null };
  warnings: string[];
  notes: string[];
  verification_summary: VerificationSummary;
  decision: Decision;
  errorCodes: string[];
  deviceDetails: DeviceDetails;
  createdAt: string;
  updatedAt: string;
  images: ImageRef[];
}

export interface Envelope<T> {
  status: boolean;
  code: number;
  message: string;
  appVersion: string;
  result: T[];
  /** Empty on success; on failure the stable code(s) of the error. */
  errorCodes: string[];
}

/** `POST /api/v1/documents/read`: one document read on its own (not stored). */
export interface DocumentReadBody {
  requestId: string;
  record_identifier: string | null;
  document_data: (DocumentRecordFields & { documentName: 'document'; side: 'front'; face_found: boolean })[];
  warnings: string[];
  verification_summary: { document_verified: boolean; document_liveness_verified: null };
  errorCodes: string[];
  createdAt: string;
}
