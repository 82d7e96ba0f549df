import { otherFaces, type Analysis, type Box } from '../face/index.js';
import { analyzeImages, type Analyses } from './analyze.js';
import { decide, resolveRules } from './decision.js';
import type { ApiClient, ApiDeps } from './deps.js';
import { deviceDetails } from '../web/device.js';
import { ApiError, QUALITY_CODE_DOCS, imageCode, type ImageField, type RecordCode } from './errors.js';
import { cropFaces, type CroppedFace } from './images.js';
import type { MatchRequest } from './parse.js';
import type { MatchRecordBody, Score } from './types.js';

export interface MatchOutcome {
  record: MatchRecordBody;
  crops: CroppedFace[];
  /** The account matched against, when the reference was an enrolled user. */
  userId: string | null;
  /** Milliseconds: analysis (all images, in parallel) and the rest of the match. */
  timings: { analyze: number; total: number };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const LABEL: Record<ImageField, string> = { selfie: 'Selfie', reference: 'Reference', document: 'Document' };
/** Each quality issue on a compared face lowers confidence by this factor. */
const ISSUE_PENALTY = 0.85;

/**
 * How far the similarity can be trusted (0–100): the lowest detection confidence of the compared faces, lowered
 * by 15 % per quality issue on them. It is not a probability of identity: that is what similarity measures.
 */
function confidence(analyses: Analysis[]): number {
  const detection = Math.min(...analyses.map((a) => a.face?.score ?? 0));
  const issues = analyses.reduce((n, a) => n + a.quality.issues.length, 0);
  return round1(100 * detection * ISSUE_PENALTY ** issues);
}

/** Templates of the referenced account; 404 for an unknown account, 422 when it has no usable template. */
async function enrolledTemplates(deps: ApiDeps, ref: { userId: string } | { email: string }): Promise<{ userId: string; templates: Float32Array[] }> {
  const user = 'userId' in ref ? await deps.users.byId(ref.userId) : await deps.users.byEmail(ref.email);
  if (!user) throw new ApiError('USER_NOT_FOUND', 'no account has this user_id or email');
  const templates = await deps.verification.enrolledTemplates(user.id);
  if (templates.length === 0) throw new ApiError('USER_NOT_ENROLLED', 'the account has no face enrolled for the current face model');
  return { userId: user.id, templates };
}

function compareFaces(engine: ApiDeps['engine'], selfie: Analysis, reference: Analysis | Float32Array[]): { score: number; index: number } {
  const templates = Array.isArray(reference) ? reference : [reference.embedding!];
  const { score, index } = engine.compare(selfie.embedding!, templates);
  return { score, index };
}

/** Quality codes and warnings of every analysed image; a selfie or reference without a face never gets here. */
function qualityFindings(a: Analyses): { codes: string[]; warnings: string[] } {
  const codes: string[] = [];
  const warnings: string[] = [];
  for (const field of ['selfie', 'reference', 'document'] as const) {
    for (const issue of a[field]?.quality.issues ?? []) {
      codes.push(imageCode(field, issue.code));
      warnings.push(`${LABEL[field]}: ${QUALITY_CODE_DOCS[issue.code]}`);
    }
  }
  return { codes, warnings };
}

const pixels = (b: Box) => `x=${Math.round(b.x)}, y=${Math.round(b.y)}, width=${Math.round(b.width)}, height=${Math.round(b.height)}`;

/**
 * The faces of the selfie and the reference besides the compared one (the subject), one warning each with its box
 * in pixels of the upright image, and `<IMAGE>_OTHER_FACES` when there are any.
 */
function otherFaceFindings(a: Analyses): { codes: RecordCode[]; warnings: string[]; selfie: number } {
  const codes: RecordCode[] = [];
  const warnings: string[] = [];
  let selfie = 0;
  for (const field of ['selfie', 'reference'] as const) {
    const analysis = a[field];
    if (!analysis?.face) continue;
    const others = otherFaces(analysis.faces, analysis.face.box);
    if (field === 'selfie') selfie = others.length;
    if (others.length > 0) codes.push(field === 'selfie' ? 'SELFIE_OTHER_FACES' : 'REFERENCE_OTHER_FACES');
    for (const f of others) warnings.push(`${LABEL[field]}: another face at ${pixels(f.box)} was not compared (the compared face is at ${pixels(analysis.face.box)}).`);
  }
  return { codes, warnings, selfie };
}

/** Analyses, compares and decides one match request; storing and answering are the route's job. */
export async function runMatch(deps: ApiDeps, client: ApiClient, req: MatchRequest, requestId: string): Promise<MatchOutcome> {
  const start = performance.now();
  const settings = await deps.settings.get();
  const enrolled = 'image' in req.reference ? null : await enrolledTemplates(deps, req.reference);
  const images = {
    selfie: req.selfie,
    ...('image' in req.reference ? { reference: req.reference.image } : {}),
    ...(req.document ? { document: req.document } : {}),
  };
  const analyzeStart = performance.now();
  const a = await analyzeImages(deps.engine, images);
  const analyzeMs = performance.now() - analyzeStart;

  const face = compareFaces(deps.engine, a.selfie, enrolled?.templates ?? a.reference!);
  const compared = enrolled ? [a.selfie] : [a.selfie, a.reference!];
  const faceMatch: Score = { similarity: face.score, confidence: confidence(compared) };
  const documentFound = a.document?.face ? a.document : null;
  const documentMatch: Score | null = documentFound
    ? { similarity: compareFaces(deps.engine, a.selfie, documentFound).score, confidence: confidence([a.selfie, documentFound]) }
    : null;

  const liveness = a.selfie.liveness;
  const qualityOk = a.selfie.quality.ok && (a.reference?.quality.ok ?? true);
  const rules = resolveRules(client.matchRules, settings);
  const others = otherFaceFindings(a);
  const outcome = decide(
    {
      faceScore: faceMatch.similarity,
      livenessPass: liveness?.live ?? null,
      qualityOk,
      document: a.document ? { score: documentMatch?.similarity ?? null } : null,
      selfieOtherFaces: others.selfie,
    },
    rules,
  );

  const quality = qualityFindings(a);
  const warnings = [...quality.warnings, ...others.warnings];
  if (liveness && !liveness.live) warnings.push(`Selfie: the passive liveness check did not pass (score ${round1(liveness.score * 100)}).`);
  const notes = [
    enrolled
      ? `Compared with ${enrolled.templates.length} enrolled template(s) of the account; the closest is #${face.index + 1}.`
      : 'Compared with the reference image.',
    ...outcome.notes,
  ];

  const crops = settings.keepImages
    ? await cropFaces(
        (['selfie', 'reference', 'document'] as const).flatMap((field) => (a[field] && images[field] ? [{ field, image: images[field], analysis: a[field] }] : [])),
      )
    : [];
  const now = new Date().toISOString();
  const record: MatchRecordBody = {
    requestId,
    record_identifier: req.recordIdentifier,
    reference: { source: enrolled ? 'enrolled' : 'image', user_id: enrolled?.userId ?? null },
    face_match: faceMatch,
    document_data: a.document
      ? [{ documentName: 'document', side: 'front', face_found: documentFound !== null, document_face_match: documentMatch, passed: outcome.documentVerified === true }]
      : [],
    selfie_data: { liveness_pass: liveness?.live ?? null, liveness_score: liveness ? round1(liveness.score * 100) : null },
    warnings,
    notes,
    verification_summary: {
      face_verified: outcome.faceVerified,
      selfie_liveness_verified: liveness?.live ?? null,
      document_verified: outcome.documentVerified,
      verification_rules_passed: outcome.rulesPassed,
      // Liveness of a document photo is not measured: a printed portrait is a "spoof" by construction.
      document_liveness_verified: null,
      image_quality: qualityOk,
    },
    decision: outcome.decision,
    errorCodes: [...new Set([...outcome.codes, ...others.codes, ...quality.codes])],
    deviceDetails: deviceDetails(req.userAgent),
    createdAt: now,
    updatedAt: now,
    images: crops.map((c) => c.ref),
  };
  return { record, crops, userId: enrolled?.userId ?? null, timings: { analyze: analyzeMs, total: performance.now() - start } };
}
