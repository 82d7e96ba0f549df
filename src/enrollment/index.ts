import type { TemplateStore } from '../accounts/templates.js';
import type { AuditLog } from '../audit/index.js';
import type { Analysis, FaceEngine, QualityIssue } from '../face/index.js';
import type { SettingsStore } from '../settings/index.js';
import type { Sealer } from '../store/crypto.js';
import { randomToken } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';

export class EnrollmentError extends Error {
  constructor(
    readonly code: 'CONSENT_REQUIRED' | 'QUALITY_REJECTED' | 'LIVENESS_FAILED' | 'ACCOUNT_DISABLED',
    message: string,
    readonly issues: QualityIssue[] = [],
    readonly analysis: Analysis | null = null,
  ) {
    super(message);
  }
}

export interface EnrollmentDeps {
  prisma: Prisma;
  engine: FaceEngine;
  templates: TemplateStore;
  settings: SettingsStore;
  sealer: Sealer;
  audit: AuditLog;
}

export interface EnrollInput {
  userId: string;
  image: Uint8Array;
  /** upload | camera | invite | cli */
  source: string;
  /** Who performs it (admin id, "self", "cli"), for the audit trail. */
  actor: string;
  /** Self-enrollment: nobody watches the capture, so the passive liveness check must pass too. */
  requireLiveness?: boolean;
}

/** Quality score stored with a template: the detector's confidence, lowered by each quality warning. */
function templateQuality(analysis: Analysis): number {
  return Math.max(0, (analysis.face?.score ?? 0) - 0.1 * analysis.quality.issues.length);
}

/**
 * Turns one photo into a template: a recorded biometric consent is required (GDPR Art. 9 / BIPA), the photo must
 * pass the strict enrollment quality checks, and the image itself is kept (sealed) only when settings say so.
 */
export async function enrollPhoto(deps: EnrollmentDeps, input: EnrollInput) {
  if (!(await deps.templates.hasActiveConsent(input.userId))) {
    throw new EnrollmentError('CONSENT_REQUIRED', 'Record the biometric consent before enrolling a face.');
  }
  const analysis = await deps.engine.analyze(input.image, 'enroll');
  if (!analysis.quality.ok || !analysis.embedding) {
    const issues = analysis.quality.issues;
    await deps.audit.record({ type: 'enroll.face', outcome: 'failure', reason: issues[0]?.code ?? 'FACE_NOT_FOUND', userId: input.userId, actorId: actorUuid(input.actor), details: { codes: issues.map((i) => i.code), source: input.source } });
    throw new EnrollmentError('QUALITY_REJECTED', issues.map((i) => i.message).join(' ') || 'No usable face in this photo.', issues, analysis);
  }
  if (input.requireLiveness) {
    // The 'enroll' analysis skips liveness; a 'verify' pass on the same bytes scores it.
    const liveness = (await deps.engine.analyze(input.image, 'verify')).liveness;
    if (!liveness?.live) {
      await deps.audit.record({ type: 'enroll.face', outcome: 'failure', reason: 'LIVENESS_FAILED', userId: input.userId, actorId: actorUuid(input.actor), details: { source: input.source, liveness: liveness?.score ?? null } });
      throw new EnrollmentError('LIVENESS_FAILED', 'The picture did not look like a live capture. Use your camera directly, in good light, without a screen or printed photo.', [], analysis);
    }
  }
  const template = await deps.templates.add(input.userId, { embedding: analysis.embedding, modelId: analysis.modelId, quality: templateQuality(analysis), source: input.source });
  if ((await deps.settings.get()).keepImages) {
    await deps.prisma.storedImage.create({
      data: { key: randomToken(18), kind: 'enrollment', userId: input.userId, data: deps.sealer.seal(input.image, `image:${input.userId}`) },
    });
  }
  await deps.audit.record({ type: 'enroll.face', outcome: 'success', userId: input.userId, actorId: actorUuid(input.actor), details: { templateId: template.id, source: input.source, modelId: analysis.modelId } });
  return { template, analysis };
}

function actorUuid(actor: string): string | null {
  return /^[0-9a-f-]{36}$/i.test(actor) ? actor : null;
}
