// Public surface of identity-document reading: the MRZ, its checks, the record's document fields.
export { DocumentReader, type DocumentReaderOptions, type DocumentReading, type ReadStatus } from './document-reader.js';
export { DocumentError, type DocumentErrorCode } from './errors.js';
export { DOCUMENT_FIELD_DOCS, type DocumentFields, type FieldConfidence } from './fields.js';
export type { CheckResult, Correction } from './parse.js';
export type { Placement } from './reader.js';
export { lookupCountry, type Country } from './countries.js';
export { checkDigit } from './check-digit.js';
export { parseMrz } from './parse.js';
export { documentFields } from './fields.js';
export { composeMrz, type MrzContent } from './compose.js';
export type { MrzFormat } from './layouts.js';
export { runDocumentEval, readDocumentList, type DocumentEvalResult } from './eval.js';
