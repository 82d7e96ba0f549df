import { DEFAULT_QUALITY, MATCH_PRESETS, SCORE_KNOTS, SIZE_TIE_RATIO } from '../face/index.js';
import { DOCUMENT_FIELD_DOCS } from '../documents/index.js';
import { REQUEST_ERRORS, recordCodeCatalogue, type RequestErrorCode } from './errors.js';

export interface OpenApiOptions {
  issuer: string;
  appVersion: string;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
}

type Schema = Record<string, unknown>;

const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const percent = (description: string): Schema => ({ type: 'number', minimum: 0, maximum: 100, description });
const obj = (properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required: Object.keys(properties),
  additionalProperties: false,
  properties,
});
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

function scoreScale(): string {
  const presets = Object.entries(MATCH_PRESETS).map(([name, cosine]) => `${name} is cosine ${cosine}`);
  const knots = SCORE_KNOTS.map(([cosine, score]) => `cosine ${cosine} → ${score}`).join(', ');
  return (
    `0–100, one decimal: the cosine similarity of the two faces' embeddings mapped piecewise-linearly (${knots}). ` +
    `The knots are the face model's thresholds at a false-accept rate of 1e-3, 1e-4 and 1e-5 measured on LFW (${presets.join(', ')}): ` +
    'every ten points above 60 is a tenfold lower false-accept rate.'
  );
}

/** The subject rule, as the face engine applies it (src/face/subject.ts, src/face/config.ts multiFaceMinRatio). */
const SUBJECT_RULE =
  'Which face is compared: in every image, the largest face by box area; faces whose size (the square root of the box area) ' +
  `is within ${SIZE_TIE_RATIO} of the largest one, the detector's own jitter, count as a tie, and the tied face nearest the image centre wins. ` +
  'Other faces of the selfie and the reference image are listed in warnings with their boxes (pixels of the upright image) and ' +
  `flagged SELFIE_OTHER_FACES / REFERENCE_OTHER_FACES; a reference whose other face is comparable in size (at least ${DEFAULT_QUALITY.multiFaceMinRatio} of the compared ` +
  'face) is also flagged REFERENCE_MULTIPLE_FACES. A selfie with such a comparable second face is ambiguous and is refused with ' +
  '422 SELFIE_MULTIPLE_FACES.';

const CONFIDENCE =
  '0–100, one decimal: how far the similarity can be trusted: the lowest face-detection confidence of the compared faces, ' +
  'lowered by 15 % for each quality issue found on them. It is not a probability of identity.';

const DECISION =
  "Per client rules (Client.matchRules): minSimilarity (default: the operator's API review score, 70 = the FAR 1e-4 preset), " +
  'livenessRequired (default true), qualityRequired (default false), documentRequired (default false), ' +
  'otherFacesInSelfie (allow, review or decline a selfie with other, smaller faces besides the compared one; default allow). The accept threshold is ' +
  "the operator's API accept score (default 80 = the FAR 1e-5 preset), at least minSimilarity. " +
  'expiredDocument (decline, review or allow an expired document; default decline). ' +
  'DECLINED: the selfie or the document portrait below minSimilarity, failed liveness when required, a required document missing, ' +
  'an expired document (unless expiredDocument says otherwise), or other faces in the selfie when otherFacesInSelfie is decline. ' +
  'REVIEW: a similarity from minSimilarity up to the accept threshold, quality issues when quality is required, no portrait on the document, ' +
  'a document whose MRZ is missing, unreadable or fails a check digit, or other faces in the selfie when otherFacesInSelfie is review. ' +
  'ACCEPTED: everything else.';

function matchRequest(imageKeywords: Schema, imageNote: string): Schema {
  const image = (description: string): Schema => ({ type: 'string', ...imageKeywords, description: `${description} ${imageNote}` });
  return {
    type: 'object',
    required: ['selfie'],
    description: 'selfie and exactly one of reference, user_id and email.',
    properties: {
      selfie: image('The live capture: its subject (largest face) is compared; a second face of comparable size is refused.'),
      reference: image('A photo on file: its subject (largest face) is compared; other people in it are reported in warnings.'),
      user_id: {
        type: 'string',
        format: 'uuid',
        description:
          "Compare with this account's enrolled face templates: only for apps an administrator allowed to (403 ENROLLED_MATCH_NOT_ALLOWED otherwise). An account that does not exist, is disabled, face-locked or not enrolled, or against which this app's failed matches have reached the sign-in limits, gets the same answer as a selfie of someone else: DECLINED with USER_NOT_VERIFIED and no similarity. Every failed match counts against the account's face sign-in limits from unknown devices.",
      },
      email: { type: 'string', format: 'email', description: 'Like user_id, by email address.' },
      document: image(
        'An identity document (passport, ID card, residence permit, visa; any quarter turn, tilted, up to the pixel limit): its machine-readable zone is read and checked, and its largest face (the portrait) is compared with the selfie too. A PDF is refused (415 DOCUMENT_PDF_NOT_SUPPORTED); an image with neither an MRZ nor a face is 422 DOCUMENT_NOT_FOUND.',
      ),
      document_back: image("The back of a card whose MRZ is there (TD1): its MRZ is read; the portrait is taken from document."),
      record_identifier: { type: 'string', maxLength: 200, description: 'Your reference, echoed in the record.' },
      user_agent: { type: 'string', maxLength: 1024, description: "The capturing device's User-Agent (default: the caller's)." },
    },
  };
}

/** The MRZ part of a document entry, shared by the match record and the document read. */
function documentFieldSchemas(): Record<string, Schema> {
  const fields = Object.fromEntries(Object.entries(DOCUMENT_FIELD_DOCS).map(([name, { type, about }]) => [name, nullable(type, { description: `${about} null when no MRZ was read.` })]));
  const confidence = Object.fromEntries(Object.keys(DOCUMENT_FIELD_DOCS).filter((k) => !['mrz_format', 'expired', 'issued_date'].includes(k)).map((k) => [k, { type: 'number', minimum: 0, maximum: 1 }]));
  return {
    mrz_status: {
      enum: ['read', 'checks_failed', 'unreadable', 'not_found'],
      description: 'read: every check digit holds. checks_failed: an MRZ with a check digit that fails, a code or date that is no real one, or two readings that both hold (DOCUMENT_MRZ_CHECK_FAILED). unreadable: MRZ-shaped lines whose check digits do not hold. not_found: no MRZ on the images.',
    },
    mrz_side: nullable('string', { enum: ['front', 'back', null], description: 'Which image carried the MRZ (document or document_back).' }),
    ...fields,
    mrz_checks: {
      type: 'object',
      additionalProperties: { type: 'boolean' },
      description: 'Each check digit of the MRZ and whether it holds: document_number, date_of_birth, expiry_date, personal_number (TD3), composite (TD1, TD2, TD3); not_expired.',
    },
    document_data_confidence: {
      type: 'object',
      additionalProperties: false,
      properties: confidence,
      description:
        "0–1 per field: the recogniser's mean character confidence over the field, times 0.9 per corrected look-alike character; where a check digit covers the field and holds, the remaining doubt is divided by 10 (by 100 when the composite check holds too); where it fails, halved. Empty when no MRZ was read.",
    },
  };
}

function documentRequest(imageKeywords: Schema, imageNote: string): Schema {
  const image = (description: string): Schema => ({ type: 'string', ...imageKeywords, description: `${description} ${imageNote}` });
  return {
    type: 'object',
    required: ['document'],
    properties: {
      document: image('A photo or scan of the identity document (the side with the portrait, or the one with the MRZ).'),
      document_back: image('The other side of a card whose MRZ is there (TD1).'),
      record_identifier: { type: 'string', maxLength: 200, description: 'Your reference, echoed in the answer.' },
    },
  };
}

function schemas(): Record<string, Schema> {
  const recordCodes = recordCodeCatalogue().map((c) => c.code);
  return {
    Score: obj({ similarity: percent(scoreScale()), confidence: percent(CONFIDENCE) }),
    WithheldScore: obj(
      { similarity: { type: 'null' }, confidence: { type: 'null' } },
      'Against an enrolled account (user_id or email), a selfie that is not verified as the account gets no figures, so repeated attempts cannot climb towards a match; errorCodes holds USER_NOT_VERIFIED.',
    ),
    DocumentData: obj(
      {
        documentName: { const: 'document' },
        side: { const: 'front' },
        face_found: { type: 'boolean', description: 'Whether a portrait was found on the document (its largest face).' },
        document_face_match: { oneOf: [ref('Score'), { type: 'null' }], description: 'Selfie against the document portrait; null when no portrait was found.' },
        passed: { type: 'boolean', description: 'document_verified: the MRZ was read with every check digit valid, the document is not expired, and the portrait matches the selfie.' },
        ...documentFieldSchemas(),
      },
      'The identity document sent with the request: the portrait comparison and what its machine-readable zone says (ICAO Doc 9303).',
    ),
    SelfieData: obj({
      liveness_pass: nullable('boolean', { description: 'Passive liveness at or above the operator threshold; null when not measured.' }),
      liveness_score: nullable('number', { minimum: 0, maximum: 100, description: 'p(live) × 100, one decimal.' }),
    }),
    VerificationSummary: obj(
      {
        face_verified: { type: 'boolean', description: 'Selfie and reference meet the minimum similarity.' },
        selfie_liveness_verified: nullable('boolean'),
        document_verified: nullable('boolean', { description: 'The MRZ was read with every check digit valid, the document is not expired and its portrait matches the selfie; null when no document was sent.' }),
        verification_rules_passed: { type: 'boolean', description: "Every rule of the client's decision rules passed." },
        document_liveness_verified: { type: 'null', description: 'Not measured yet: nothing checks that the document photo shows a physical document rather than a screen, a print or an edited image.' },
        image_quality: { type: 'boolean', description: 'The selfie and the reference image have no quality issue.' },
      },
      'null marks what was not checked.',
    ),
    DeviceDetails: obj(
      {
        useragent: nullable('string', { maxLength: 512 }),
        detectResult: obj({
          client: obj({
            type: nullable('string', { description: 'browser, or library for HTTP clients (curl, python-requests, okhttp, …)' }),
            name: nullable('string'),
            version: nullable('string'),
          }),
          device: obj({
            id: nullable('string', { description: 'Slug of brand and model, e.g. samsung-sm-s918b.' }),
            type: nullable('string', { description: 'mobile, tablet, smarttv, wearable, console, embedded, or desktop.' }),
            brand: nullable('string'),
            model: nullable('string'),
          }),
        }),
      },
      'The capturing device, from the user_agent field or else the caller\'s User-Agent header, parsed by ua-parser-js.',
    ),
    ImageRef: obj(
      {
        documentName: {
          enum: ['selfie', 'reference', 'cropped_portrait', 'cropped_front', 'cropped_mrz'],
          description: 'cropped_portrait: the document portrait; cropped_front: the document turned upright and deskewed (its extent estimated from the MRZ); cropped_mrz: the MRZ band.',
        },
        side: nullable('string', { enum: ['front', 'back', null] }),
        key: { type: 'string', format: 'uuid', description: 'Fetch with GET /api/v1/images/{key}.' },
      },
      'A stored crop, sealed at rest (only when the operator keeps images).',
    ),
    MatchRecord: obj({
      requestId: { type: 'string', format: 'uuid' },
      record_identifier: nullable('string', { maxLength: 200, description: 'Echo of the request field.' }),
      reference: obj({
        source: { enum: ['image', 'enrolled'], description: 'A reference image, or the enrolled templates of an account.' },
        user_id: nullable('string', { format: 'uuid' }),
      }),
      face_match: { oneOf: [ref('Score'), ref('WithheldScore')] },
      document_data: { type: 'array', maxItems: 1, items: ref('DocumentData') },
      selfie_data: ref('SelfieData'),
      warnings: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Human-readable findings: quality issues, a failed liveness check, and one entry per face of the selfie or the reference ' +
          "that was not compared, e.g. \"Reference: another face at x=1415, y=264, width=565, height=842 was not compared (the compared face is at …).\"",
      },
      notes: { type: 'array', items: { type: 'string' }, description: 'How the decision was reached (thresholds, rules).' },
      verification_summary: ref('VerificationSummary'),
      decision: {
        enum: ['ACCEPTED', 'REVIEW', 'DECLINED'],
        description: DECISION,
      },
      errorCodes: { type: 'array', uniqueItems: true, items: { enum: recordCodes }, description: 'See x-record-codes.' },
      deviceDetails: ref('DeviceDetails'),
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      images: { type: 'array', items: ref('ImageRef') },
    }),
    MatchEnvelope: obj({
      status: { const: true },
      code: { const: 200 },
      message: { type: 'string' },
      appVersion: { type: 'string' },
      result: { type: 'array', minItems: 1, maxItems: 1, items: ref('MatchRecord') },
      errorCodes: { type: 'array', maxItems: 0 },
    }),
    DocumentRead: obj({
      requestId: { type: 'string', format: 'uuid' },
      record_identifier: nullable('string', { maxLength: 200 }),
      document_data: {
        type: 'array',
        minItems: 1,
        maxItems: 1,
        items: obj(
          {
            documentName: { const: 'document' },
            side: { const: 'front' },
            face_found: { type: 'boolean', description: 'Whether a portrait was found on the document.' },
            ...documentFieldSchemas(),
          },
          'What the document says.',
        ),
      },
      warnings: { type: 'array', items: { type: 'string' } },
      verification_summary: obj({
        document_verified: { type: 'boolean', description: 'The MRZ was read with every check digit valid, the document is not expired and a portrait was found.' },
        document_liveness_verified: { type: 'null', description: 'Not measured yet.' },
      }),
      errorCodes: { type: 'array', uniqueItems: true, items: { enum: ['DOCUMENT_MRZ_CHECK_FAILED', 'DOCUMENT_EXPIRED', 'DOCUMENT_FACE_NOT_FOUND'] } },
      createdAt: { type: 'string', format: 'date-time' },
    }),
    DocumentEnvelope: obj({
      status: { const: true },
      code: { const: 200 },
      message: { type: 'string' },
      appVersion: { type: 'string' },
      result: { type: 'array', minItems: 1, maxItems: 1, items: ref('DocumentRead') },
      errorCodes: { type: 'array', maxItems: 0 },
    }),
    DocumentRequestMultipart: documentRequest({ contentMediaType: 'image/*' }, 'An image file part.'),
    DocumentRequestJson: documentRequest({ contentEncoding: 'base64' }, 'base64 image bytes; a data: URL prefix is accepted.'),
    MatchRequestMultipart: matchRequest({ contentMediaType: 'image/*' }, 'An image file part.'),
    MatchRequestJson: matchRequest({ contentEncoding: 'base64' }, 'base64 image bytes; a data: URL prefix is accepted.'),
  };
}

function errorEnvelope(codes: RequestErrorCode[]): Schema {
  const status = REQUEST_ERRORS[codes[0]].status;
  return obj({
    status: { const: false },
    code: { const: status },
    message: { type: 'string' },
    appVersion: { type: 'string' },
    result: { type: 'array', maxItems: 0 },
    errorCodes: { type: 'array', minItems: 1, maxItems: 1, items: { enum: codes } },
  });
}

const REQUEST_ID_HEADER = { 'X-Request-Id': { description: 'Identifies the request in the server logs.', schema: { type: 'string', format: 'uuid' } } };
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } } };

/** One response per HTTP status, listing exactly the codes the operation can answer with it. */
function errorResponses(codes: RequestErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, RequestErrorCode[]>();
  for (const code of codes) byStatus.set(REQUEST_ERRORS[code].status, [...(byStatus.get(REQUEST_ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      String(status),
      {
        description: group.map((c) => `${c}: ${REQUEST_ERRORS[c].about}`).join(' '),
        headers: { ...REQUEST_ID_HEADER, ...(status === 429 || status === 503 ? RETRY_AFTER : {}) },
        content: { 'application/json': { schema: errorEnvelope(group) } },
      },
    ]),
  );
}

const AUTH_ERRORS: RequestErrorCode[] = ['UNAUTHORIZED', 'INSUFFICIENT_SCOPE', 'INTERNAL_ERROR'];
const READ_ONLY: RequestErrorCode[] = ['RECORD_NOT_FOUND', 'IMAGE_NOT_FOUND'];
/** Codes only the document read answers with: the match reports a missing or unreadable MRZ in the record instead. */
const DOCUMENT_ONLY: RequestErrorCode[] = ['DOCUMENT_IMAGE_REQUIRED', 'MRZ_NOT_FOUND', 'MRZ_UNREADABLE'];
const MATCH_ERRORS = (Object.keys(REQUEST_ERRORS) as RequestErrorCode[]).filter((c) => !READ_ONLY.includes(c) && !DOCUMENT_ONLY.includes(c));
const DOCUMENT_ERRORS: RequestErrorCode[] = [
  ...DOCUMENT_ONLY,
  ...(Object.keys(REQUEST_ERRORS) as RequestErrorCode[]).filter((c) => c.startsWith('DOCUMENT_') && c !== 'DOCUMENT_IMAGE_REQUIRED'),
  'INVALID_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'OVERLOADED',
  'ENGINE_UNAVAILABLE',
  ...AUTH_ERRORS,
];

/** The OpenAPI 3.1 document served at /api/openapi.json; also the source of the /api/docs page. */
export function buildOpenApi(opts: OpenApiOptions): Record<string, unknown> {
  const mb = Math.round((opts.maxUploadBytes / 1024 / 1024) * 10) / 10;
  const matchRecordOk = {
    headers: REQUEST_ID_HEADER,
    content: { 'application/json': { schema: ref('MatchEnvelope') } },
  };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'face-oidc Face Match API',
      version: opts.appVersion,
      description:
        'Compares the selfie a user captures with a face on file (a reference image or an account\'s enrolled templates) and, ' +
        'optionally, with the portrait on an identity document. Backends call it with an OAuth 2.0 access token of the ' +
        `client_credentials grant with scope face:match. Images: JPEG, PNG or WebP (recognised by content), at most ${mb} MB each. ` +
        `Each client may send ${opts.rateLimitPerMinute} match requests a minute. Every answer is the envelope ` +
        '{status, code, message, appVersion, result, errorCodes}. ' +
        SUBJECT_RULE,
    },
    servers: [{ url: opts.issuer }],
    security: [{ clientCredentials: ['face:match'] }],
    paths: {
      '/api/v1/face/match': {
        post: {
          operationId: 'matchFace',
          summary: 'Match a selfie against a reference image or an enrolled account',
          description:
            'multipart/form-data with image files, or application/json with base64 images (a data: URL prefix is accepted). ' +
            'The record is stored (without images unless the operator keeps them) and can be read again by requestId.',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: ref('MatchRequestMultipart'),
                encoding: { selfie: { contentType: 'image/*' }, reference: { contentType: 'image/*' }, document: { contentType: 'image/*' }, document_back: { contentType: 'image/*' } },
              },
              'application/json': { schema: ref('MatchRequestJson') },
            },
          },
          responses: {
            '200': { description: 'The match record, whatever the decision.', ...matchRecordOk },
            ...errorResponses(MATCH_ERRORS),
          },
        },
      },
      '/api/v1/documents/read': {
        post: {
          operationId: 'readDocument',
          summary: 'Read an identity document: its MRZ, checked, and whether it shows a portrait',
          description:
            'Finds the machine-readable zone (any quarter turn plus a tilt), reads it, checks every check digit (ICAO Doc 9303), resolves the issuer and nationality codes, ' +
            'and looks for the portrait. Not stored. 422 DOCUMENT_NOT_FOUND: neither an MRZ nor a face; MRZ_NOT_FOUND: a face but no MRZ (send document_back); ' +
            'MRZ_UNREADABLE: MRZ-shaped lines whose check digits do not hold. A document whose MRZ fails one check digit is answered with DOCUMENT_MRZ_CHECK_FAILED.',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: ref('DocumentRequestMultipart'), encoding: { document: { contentType: 'image/*' }, document_back: { contentType: 'image/*' } } },
              'application/json': { schema: ref('DocumentRequestJson') },
            },
          },
          responses: {
            '200': { description: 'What the document says.', headers: REQUEST_ID_HEADER, content: { 'application/json': { schema: ref('DocumentEnvelope') } } },
            ...errorResponses(DOCUMENT_ERRORS),
          },
        },
      },
      '/api/v1/face/match/{requestId}': {
        get: {
          operationId: 'getMatchRecord',
          summary: 'Read a stored match record',
          parameters: [{ name: 'requestId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': { description: 'The record as first answered.', ...matchRecordOk },
            ...errorResponses(['RECORD_NOT_FOUND', ...AUTH_ERRORS]),
          },
        },
      },
      '/api/v1/images/{key}': {
        get: {
          operationId: 'getMatchImage',
          summary: 'Download a stored face crop',
          description: 'Only for images[] keys of the calling client\'s records; images are kept only when the operator enables it.',
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': { description: 'The face crop.', headers: REQUEST_ID_HEADER, content: { 'image/jpeg': {} } },
            ...errorResponses(['IMAGE_NOT_FOUND', ...AUTH_ERRORS]),
          },
        },
      },
      '/api/openapi.json': {
        get: { operationId: 'getOpenApi', summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
      },
      '/api/docs': {
        get: { operationId: 'getDocs', summary: 'This document as a web page', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': {} } } } },
      },
    },
    components: {
      schemas: schemas(),
      securitySchemes: {
        clientCredentials: {
          type: 'oauth2',
          description:
            'Register a client with the client_credentials grant (CLI `face-oidc client create --grant client_credentials` or the admin UI). Send the token as `Authorization: Bearer <token>`; a DPoP-bound token (RFC 9449, required for apps with DPoP required or the FAPI 2.0 preset) as `Authorization: DPoP <token>` with a fresh `DPoP` proof header for each request (htm, htu, iat, jti, ath).',
          flows: { clientCredentials: { tokenUrl: `${opts.issuer}/token`, scopes: { 'face:match': 'Call the Face Match API' } } },
        },
      },
    },
    'x-request-codes': Object.entries(REQUEST_ERRORS).map(([code, { status, about }]) => ({ code, status, about })),
    'x-record-codes': recordCodeCatalogue(),
  };
}
