import { describe, expect, it } from 'vitest';
import { documentWarnings, type DocumentEvidence } from '../../src/api/documents.js';
import type { DocumentReading } from '../../src/documents/index.js';

/** A `checks_failed` reading as the reader gives it, with only what the warnings look at. */
function evidence(reading: Partial<DocumentReading>): DocumentEvidence {
  const base: DocumentReading = { status: 'checks_failed', fields: null, confidence: null, checks: [], implausible: [], ambiguous: false, corrections: [], placement: null, crops: null, timings: { decode: 0, read: 0, total: 0 } };
  return { reading: { ...base, ...reading }, mrzSide: 'document', status: 'checks_failed', portrait: null, portraitImage: null };
}

describe('document warnings say why an MRZ does not check out', () => {
  it('names failing check digits, fields no document holds, and a reading that holds two ways', () => {
    expect(documentWarnings(evidence({ checks: [{ name: 'birthDate', valid: false }, { name: 'composite', valid: true }] }))).toEqual(['Document: the MRZ check digit(s) for birthDate do not hold.']);
    expect(documentWarnings(evidence({ checks: [{ name: 'composite', valid: true }], implausible: ['issuingState', 'expiryDate'] }))).toEqual(['Document: the MRZ holds no real issuingState, expiryDate (misread or altered).']);
    expect(documentWarnings(evidence({ ambiguous: true }))).toEqual(['Document: the MRZ reads two ways that both hold every check digit.']);
  });
});
