import { describe, expect, it } from 'vitest';
import { decide, resolveRules, type MatchRules } from '../../src/api/decision.js';
import { deviceDetails } from '../../src/web/device.js';
import { buildOpenApi } from '../../src/api/openapi.js';
import { loadConfig } from '../../src/config/index.js';
import { MATCH_PRESETS, similarityToScore } from '../../src/face/index.js';
import { defaultSettings } from '../../src/settings/index.js';

const settings = defaultSettings(loadConfig({ MODELS_DIR: 'models' }));
const rules = (own: Record<string, unknown> = {}): MatchRules => resolveRules(own, settings);
const input = { faceScore: 90, livenessPass: true, qualityOk: true, document: null, selfieOtherFaces: 0 };

describe('decision rules', () => {
  it("defaults to the operator's scores, which are the face engine's FAR 1e-4 and 1e-5 presets", () => {
    expect(rules()).toEqual({ minSimilarity: 70, acceptSimilarity: 80, livenessRequired: true, qualityRequired: false, documentRequired: false, otherFacesInSelfie: 'allow', expiredDocument: 'decline' });
    expect(similarityToScore(MATCH_PRESETS['far-1e-4'])).toBe(settings.apiReviewScore);
    expect(similarityToScore(MATCH_PRESETS['far-1e-5'])).toBe(settings.apiAcceptScore);
  });

  it('keeps the accept threshold at or above a client minimum and ignores malformed stored rules', () => {
    expect(rules({ minSimilarity: 90 })).toMatchObject({ minSimilarity: 90, acceptSimilarity: 90 });
    expect(rules({ minSimilarity: 'high', livenessRequired: 'yes' })).toEqual(rules());
  });

  it('declines below the minimum, reviews in the band, accepts above', () => {
    expect(decide({ ...input, faceScore: 69.9 }, rules())).toMatchObject({ decision: 'DECLINED', faceVerified: false, codes: ['FACE_MISMATCH'] });
    expect(decide({ ...input, faceScore: 70 }, rules())).toMatchObject({ decision: 'REVIEW', faceVerified: true, rulesPassed: true });
    expect(decide({ ...input, faceScore: 80 }, rules())).toMatchObject({ decision: 'ACCEPTED', codes: [] });
  });

  it('applies liveness, quality and document rules', () => {
    expect(decide({ ...input, livenessPass: false }, rules())).toMatchObject({ decision: 'DECLINED', rulesPassed: false, codes: ['SELFIE_LIVENESS_FAILED'] });
    expect(decide({ ...input, livenessPass: false }, rules({ livenessRequired: false }))).toMatchObject({ decision: 'ACCEPTED', rulesPassed: true });
    expect(decide({ ...input, qualityOk: false }, rules())).toMatchObject({ decision: 'ACCEPTED' });
    expect(decide({ ...input, qualityOk: false }, rules({ qualityRequired: true }))).toMatchObject({ decision: 'REVIEW', rulesPassed: false });
    expect(decide(input, rules({ documentRequired: true }))).toMatchObject({ decision: 'DECLINED', codes: ['DOCUMENT_REQUIRED'], documentVerified: null });
    expect(decide({ ...input, document: { score: 85, mrz: 'read', expired: false } }, rules({ documentRequired: true }))).toMatchObject({ decision: 'ACCEPTED', documentVerified: true });
    expect(decide({ ...input, document: { score: 75, mrz: 'read', expired: false } }, rules())).toMatchObject({ decision: 'REVIEW', documentVerified: true });
    expect(decide({ ...input, document: { score: 20, mrz: 'read', expired: false } }, rules())).toMatchObject({ decision: 'DECLINED', documentVerified: false, codes: ['DOCUMENT_FACE_MISMATCH'] });
    expect(decide({ ...input, document: { score: null, mrz: 'read', expired: false } }, rules())).toMatchObject({ decision: 'REVIEW', documentVerified: false, rulesPassed: false });
    // The MRZ (issue 20): verified only when read with every check digit, not expired, and the portrait matches.
    const doc = (mrz: 'read' | 'checks_failed' | 'unreadable' | 'not_found', expired: boolean | null) => ({ ...input, document: { score: 85, mrz, expired } });
    expect(decide(doc('checks_failed', false), rules())).toMatchObject({ decision: 'REVIEW', documentVerified: false, codes: ['DOCUMENT_MRZ_CHECK_FAILED'] });
    expect(decide(doc('not_found', null), rules())).toMatchObject({ decision: 'REVIEW', documentVerified: false, codes: ['DOCUMENT_MRZ_NOT_FOUND'] });
    expect(decide(doc('unreadable', null), rules())).toMatchObject({ decision: 'REVIEW', documentVerified: false, codes: ['DOCUMENT_MRZ_UNREADABLE'] });
    expect(decide(doc('read', true), rules())).toMatchObject({ decision: 'DECLINED', documentVerified: false, codes: ['DOCUMENT_EXPIRED'] });
    expect(decide(doc('read', true), rules({ expiredDocument: 'review' }))).toMatchObject({ decision: 'REVIEW', documentVerified: false });
    expect(decide(doc('read', true), rules({ expiredDocument: 'allow' }))).toMatchObject({ decision: 'ACCEPTED', documentVerified: false, rulesPassed: true });
    // Other (smaller) faces in the selfie: allowed unless the client's rules say otherwise.
    expect(decide({ ...input, selfieOtherFaces: 2 }, rules())).toMatchObject({ decision: 'ACCEPTED', rulesPassed: true });
    expect(decide({ ...input, selfieOtherFaces: 1 }, rules({ otherFacesInSelfie: 'review' }))).toMatchObject({ decision: 'REVIEW', rulesPassed: false });
    expect(decide({ ...input, selfieOtherFaces: 1 }, rules({ otherFacesInSelfie: 'decline' }))).toMatchObject({ decision: 'DECLINED', rulesPassed: false });
    expect(decide(input, rules({ otherFacesInSelfie: 'decline' }))).toMatchObject({ decision: 'ACCEPTED', rulesPassed: true });
  });
});

describe('device details', () => {
  it('parses browsers, HTTP clients and desktops', () => {
    expect(deviceDetails('curl/8.5.0').detectResult).toEqual({
      client: { type: 'library', name: 'curl', version: '8.5.0' },
      device: { id: null, type: null, brand: null, model: null },
    });
    const desktop = deviceDetails('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36');
    expect(desktop.detectResult.client).toEqual({ type: 'browser', name: 'Chrome', version: '124.0.0.0' });
    expect(desktop.detectResult.device.type).toBe('desktop');
    expect(deviceDetails('  ')).toEqual(deviceDetails(null));
    expect(deviceDetails('x'.repeat(5000)).useragent).toHaveLength(512);
  });
});

describe('OpenAPI document', () => {
  type Responses = Record<string, { content?: Record<string, { schema: { properties: { errorCodes: { items: { enum: string[] } }; code: { const: number } } } }> }>;
  const doc = buildOpenApi({ issuer: 'https://id.example', appVersion: '1', maxUploadBytes: 1 << 20, rateLimitPerMinute: 60 }) as {
    paths: Record<string, Record<string, { responses: Responses }>>;
    'x-request-codes': { code: string; status: number }[];
  };
  const codesOf = (responses: Responses) =>
    Object.entries(responses).flatMap(([status, r]) => {
      const schema = r.content?.['application/json']?.schema;
      return status === '200' || !schema ? [] : schema.properties.errorCodes.items.enum.map((code) => ({ code, status: schema.properties.code.const }));
    });

  it('lists each request error code under its HTTP status, on the operations that can answer it', () => {
    const statusOf = Object.fromEntries(doc['x-request-codes'].map((c) => [c.code, c.status]));
    const match = codesOf(doc.paths['/api/v1/face/match'].post.responses);
    for (const { code, status } of match) expect(status, code).toBe(statusOf[code]);
    const readOnly = ['RECORD_NOT_FOUND', 'IMAGE_NOT_FOUND'];
    // A match reports a missing or unreadable MRZ in its record; only the document read answers them as errors.
    const documentOnly = ['DOCUMENT_IMAGE_REQUIRED', 'MRZ_NOT_FOUND', 'MRZ_UNREADABLE'];
    expect(match.map((c) => c.code).sort()).toEqual(Object.keys(statusOf).filter((c) => !readOnly.includes(c) && !documentOnly.includes(c)).sort());
    const read = codesOf(doc.paths['/api/v1/documents/read'].post.responses);
    for (const { code, status } of read) expect(status, code).toBe(statusOf[code]);
    expect(read.map((c) => c.code)).toEqual(expect.arrayContaining([...documentOnly, 'DOCUMENT_NOT_FOUND', 'DOCUMENT_PDF_NOT_SUPPORTED', 'DOCUMENT_IMAGE_TOO_SMALL', 'UNAUTHORIZED']));
    expect(read.map((c) => c.code)).not.toContain('SELFIE_REQUIRED');
    expect(codesOf(doc.paths['/api/v1/face/match/{requestId}'].get.responses).map((c) => c.code).sort()).toEqual(['INSUFFICIENT_SCOPE', 'INTERNAL_ERROR', 'RECORD_NOT_FOUND', 'UNAUTHORIZED']);
  });
});
