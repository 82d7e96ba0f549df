import type { ApiDeps } from './deps.js';
import { documentRecordFields, documentWarnings, examineDocument, requireDocument } from './documents.js';
import { ApiError } from './errors.js';
import type { DocumentReadRequest } from './parse.js';
import type { DocumentReadBody } from './types.js';

/**
 * Reads one document on its own. An image without an MRZ answers 422 (`DOCUMENT_NOT_FOUND` when it shows no face
 * either, `MRZ_NOT_FOUND` when it does), so does an MRZ whose check digits do not hold (`MRZ_UNREADABLE`); a
 * document whose MRZ fails one check digit is answered with `DOCUMENT_MRZ_CHECK_FAILED` in errorCodes.
 */
export async function readDocument(deps: Pick<ApiDeps, 'documents' | 'engine'>, req: DocumentReadRequest, requestId: string): Promise<DocumentReadBody> {
  const evidence = await examineDocument(deps, { document: req.document, ...(req.documentBack ? { document_back: req.documentBack } : {}) });
  requireDocument(evidence);
  if (evidence.status === 'not_found') throw new ApiError('MRZ_NOT_FOUND', 'the image shows a face but no machine-readable zone; send the side that carries it (document_back)');
  if (evidence.status === 'unreadable') throw new ApiError('MRZ_UNREADABLE', 'lines shaped like an MRZ were found, but their check digits do not hold: retake the photo sharper, without glare');
  const fields = evidence.reading!.fields!;
  const codes = [...(evidence.status === 'checks_failed' ? ['DOCUMENT_MRZ_CHECK_FAILED'] : []), ...(fields.expired ? ['DOCUMENT_EXPIRED'] : []), ...(evidence.portrait?.face ? [] : ['DOCUMENT_FACE_NOT_FOUND'])];
  return {
    requestId,
    record_identifier: req.recordIdentifier,
    document_data: [{ documentName: 'document', side: 'front', face_found: Boolean(evidence.portrait?.face), ...documentRecordFields(evidence) }],
    warnings: documentWarnings(evidence),
    verification_summary: {
      document_verified: evidence.status === 'read' && fields.expired === false && Boolean(evidence.portrait?.face),
      // Nothing measures whether the document photo shows a physical document (not a screen or a print): see README.
      document_liveness_verified: null,
    },
    errorCodes: codes,
    createdAt: new Date().toISOString(),
  };
}
