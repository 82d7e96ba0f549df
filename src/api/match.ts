import { otherFaces, type Admission, type Analysis, type Box } from '../face/index.js';
import { analyzeImages, extendMatch, type Analyses } from './analyze.js';
import { decide, resolveRules } from './decision.js';
import type { ApiClient, ApiDeps } from './deps.js';
import { deviceDetails } from '../web/device.js';
import { ApiError, QUALITY_CODE_DOCS, imageCode, type ImageField, type RecordCode } from './errors.js';
import { cropFaces, documentCrops, type CroppedFace } from './images.js';
import { documentRecordFields, documentWarnings, examineDocument, requireDocument, type DocumentEvidence } from './documents.js';
import type { CountedAttempt } from '../verification/index.js';
import type { MatchRequest } from './parse.js';
import type { MatchRecordBody, Score } from './types.js';

export interface MatchOutcome {
  record: MatchRecordBody;
  crops: CroppedFace[];
  /** The account matched against, when the reference was an enrolled user that could be matched. */
  userId: string | null;
  /** The 0–100 similarity for the audit trail, also where the answer withholds it (null: nothing was compared). */
  similarity: number | null;
  /** Milliseconds: analysis (all images, in parallel) and the rest of the match. */
  timings: { analyze: number; total: number };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const LABEL: Record<ImageField, string> = { selfie: 'Selfie', reference: 'Reference', document: 'Document', document_back: "Document's back" };
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

/** An enrolled account that can be matched now, with the attempt counted against the client's budget for it. */
interface MatchableAccount {
  userId: string;
  templates: Float32Array[];
  attempt: CountedAttempt;
}

/**
 * The referenced account when it can be matched: it exists, is active, its face factor is not locked, it has
 * templates of the current model, and this client's failures against it do not make it wait. Otherwise null: the
 * caller cannot tell which of these it was, so the API is no oracle for which accounts exist or are enrolled.
 */
async function matchableAccount(deps: ApiDeps, client: ApiClient, ref: { userId: string } | { email: string }): Promise<MatchableAccount | null> {
  const user = 'userId' in ref ? await deps.users.byId(ref.userId) : await deps.users.byEmail(ref.email);
  if (!user || user.status !== 'ACTIVE' || user.faceLockedAt) return null;
  const templates = await deps.verification.enrolledTemplates(user.id);
  if (templates.length === 0) return null;
  const start = await deps.attempts.begin('face', { userId: user.id, identifier: user.email }, { kind: 'api', clientId: client.clientId }, null);
  return start.allowed ? { userId: user.id, templates, attempt: start.attempt } : null;
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

/**
 * Analyses, compares and decides one match request under its `admission` (src/api/analyze.ts: admitMatch); storing
 * and answering are the route's job.
 */
export async function runMatch(deps: ApiDeps, client: ApiClient, req: MatchRequest, requestId: string, admission: Admission): Promise<MatchOutcome> {
  const start = performance.now();
  const settings = await deps.settings.get();
  const byAccount = !('image' in req.reference);
  if (byAccount && !client.matchEnrolledUsers) {
    throw new ApiError('ENROLLED_MATCH_NOT_ALLOWED', 'this app may not match against enrolled accounts; an administrator can allow it for the app');
  }
  const images = {
    selfie: req.selfie,
    ...('image' in req.reference ? { reference: req.reference.image } : {}),
  };
  const analyzeStart = performance.now();
  // The faces and the document in parallel; a face's refusal is reported before the document's.
  const documentSent = req.document || req.documentBack;
  extendMatch(admission, images, Boolean(req.document));
  const [faces, doc] = await Promise.allSettled([
    analyzeImages(deps.engine, images, admission),
    documentSent
      ? examineDocument(deps, { ...(req.document ? { document: req.document } : {}), ...(req.documentBack ? { document_back: req.documentBack } : {}) }, admission)
      : Promise.resolve(null),
  ]);
  if (faces.status === 'rejected') throw faces.reason;
  if (doc.status === 'rejected') throw doc.reason;
  const a = faces.value;
  const evidence: DocumentEvidence | null = doc.value;
  if (evidence) {
    requireDocument(evidence);
    if (evidence.portrait) a.document = evidence.portrait;
  }
  const analyzeMs = performance.now() - analyzeStart;
  // The account is looked up only once the images are known to be usable: nothing about it is answered before.
  const enrolled = 'image' in req.reference ? null : await matchableAccount(deps, client, req.reference);

  // An account that cannot be matched is compared with nothing, and so scores as the lowest mismatch.
  const face = byAccount && !enrolled ? { score: 0, index: -1 } : compareFaces(deps.engine, a.selfie, enrolled?.templates ?? a.reference!);
  const compared = byAccount ? [a.selfie] : [a.selfie, a.reference!];
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
      document: evidence ? { score: documentMatch?.similarity ?? null, mrz: evidence.status, expired: evidence.reading?.fields?.expired ?? null } : null,
      selfieOtherFaces: others.selfie,
    },
    rules,
  );
  if (enrolled) await (outcome.decision === 'ACCEPTED' ? enrolled.attempt.succeeded() : enrolled.attempt.failed());
  // Against an account, a selfie that is not verified learns nothing more: no similarity to climb, no account id, and
  // the same answer whether the account did not match, does not exist, is disabled, locked or not enrolled.
  const withheld = byAccount && !outcome.faceVerified;
  if (withheld) {
    outcome.codes = outcome.codes.map((c) => (c === 'FACE_MISMATCH' ? 'USER_NOT_VERIFIED' : c));
    outcome.notes = outcome.notes.filter((n) => !n.startsWith('Face similarity'));
  }

  const quality = qualityFindings(a);
  const warnings = [...quality.warnings, ...others.warnings];
  if (liveness && !liveness.live) warnings.push(`Selfie: the passive liveness check did not pass (score ${round1(liveness.score * 100)}).`);
  const notes = [
    !byAccount ? 'Compared with the reference image.' : withheld ? 'The selfie was not verified as the account.' : `Compared with ${enrolled!.templates.length} enrolled template(s) of the account; the closest is #${face.index + 1}.`,
    ...outcome.notes,
  ];

  const cropSources = { ...images, ...(evidence?.portraitImage ? { document: evidence.portraitImage } : {}) };
  const crops = settings.keepImages
    ? [
        ...(await cropFaces(
          (['selfie', 'reference', 'document'] as const).flatMap((field) => (a[field] && cropSources[field] ? [{ field, image: cropSources[field], analysis: a[field] }] : [])),
        )),
        ...documentCrops(evidence?.reading?.crops, evidence?.mrzSide === 'document_back' ? 'back' : 'front'),
      ]
    : [];
  if (evidence) warnings.push(...documentWarnings(evidence));
  const now = new Date().toISOString();
  const record: MatchRecordBody = {
    requestId,
    record_identifier: req.recordIdentifier,
    reference: { source: byAccount ? 'enrolled' : 'image', user_id: withheld ? null : (enrolled?.userId ?? null) },
    face_match: withheld ? { similarity: null, confidence: null } : faceMatch,
    document_data: evidence
      ? [{ documentName: 'document', side: 'front', face_found: documentFound !== null, document_face_match: documentMatch, passed: outcome.documentVerified === true, ...documentRecordFields(evidence) }]
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
  return { record, crops, userId: enrolled?.userId ?? null, similarity: byAccount && !enrolled ? null : face.score, timings: { analyze: analyzeMs, total: performance.now() - start } };
}
