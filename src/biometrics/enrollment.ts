import type { AuditInput } from '../audit/index.js';
import type { Analysis, FaceEngine, QualityIssue } from '../face/index.js';
import type { Settings } from '../settings/index.js';
import { type BiometricConsent, type Collector, collectorAccount } from './consent.js';
import type { EnrollmentImages } from './images.js';
import type { TemplateStore } from './templates.js';

export class EnrollmentError extends Error {
  constructor(
    readonly code: 'CONSENT_REQUIRED' | 'QUALITY_REJECTED' | 'LIVENESS_FAILED',
    message: string,
    readonly issues: QualityIssue[] = [],
    readonly analysis: Analysis | null = null,
  ) {
    super(message);
  }
}

export interface EnrollmentDeps {
  engine: Pick<FaceEngine, 'analyze'>;
  consent: BiometricConsent;
  templates: TemplateStore;
  images: EnrollmentImages;
  settings: { get(): Promise<Settings> };
  audit: { record(event: AuditInput): Promise<void> };
}

export interface EnrollInput {
  userId: string;
  image: Uint8Array;
  /** upload | camera | invite | cli */
  source: string;
  /** Who performs it, for the audit trail. */
  actor: Collector;
  /** Self-enrollment: nobody watches the capture, so the passive liveness check must pass too. */
  requireLiveness?: boolean;
  /** Request id and client address of the surface that asked, for the audit trail. */
  context?: Pick<AuditInput, 'requestId' | 'ip' | 'userAgent'>;
}

const WITHDRAWN = 'The biometric consent was withdrawn while this photo was being checked: nothing was stored.';

/** Quality score stored with a template: the detector's confidence, lowered by each quality warning. */
function templateQuality(analysis: Analysis): number {
  return Math.max(0, (analysis.face?.score ?? 0) - 0.1 * analysis.quality.issues.length);
}

/**
 * Turns photos into face templates: a biometric consent must be in force (GDPR Art. 9 / BIPA), each photo must pass
 * the strict enrollment quality checks, and the image itself is kept (sealed) only when settings say so.
 */
export class Enrollment {
  constructor(private readonly deps: EnrollmentDeps) {}

  /** Analyses a photo as enrollment would, without storing anything: the verdict an enrolling person sees first. */
  preview(image: Uint8Array): Promise<Analysis> {
    return this.deps.engine.analyze(image, 'enroll');
  }

  /**
   * Checks a photo fully (quality, and liveness when asked) without storing anything; throws EnrollmentError when
   * it would be refused. Callers that create something and then enroll check every photo first.
   */
  async check(input: Omit<EnrollInput, 'userId'> & { userId: string | null }): Promise<Analysis> {
    const analysis = await this.deps.engine.analyze(input.image, 'enroll');
    const failure = (reason: string, details: Record<string, unknown>) =>
      input.userId ? this.audit(input, 'failure', reason, details) : Promise.resolve();
    if (!analysis.quality.ok || !analysis.embedding) {
      const issues = analysis.quality.issues;
      await failure(issues[0]?.code ?? 'FACE_NOT_FOUND', { codes: issues.map((i) => i.code), source: input.source });
      throw new EnrollmentError('QUALITY_REJECTED', issues.map((i) => i.message).join(' ') || 'No usable face in this photo.', issues, analysis);
    }
    if (input.requireLiveness) {
      // The 'enroll' analysis skips liveness; a 'verify' pass on the same bytes scores it.
      const liveness = (await this.deps.engine.analyze(input.image, 'verify')).liveness;
      if (!liveness?.live) {
        await failure('LIVENESS_FAILED', { source: input.source, liveness: liveness?.score ?? null });
        throw new EnrollmentError('LIVENESS_FAILED', 'The picture did not look like a live capture. Use your camera directly, in good light, without a screen or printed photo.', [], analysis);
      }
    }
    return analysis;
  }

  async enroll(input: EnrollInput) {
    if (!(await this.deps.consent.inForce(input.userId))) {
      throw new EnrollmentError('CONSENT_REQUIRED', 'Record the biometric consent before enrolling a face.');
    }
    const analysis = await this.check(input);
    const keep = (await this.deps.settings.get()).keepImages;
    const template = await this.deps.consent.whileInForce(input.userId, async (tx) => {
      const added = await this.deps.templates.add(input.userId, { embedding: analysis.embedding!, modelId: analysis.modelId, quality: templateQuality(analysis), source: input.source }, tx);
      if (keep) await this.deps.images.keep(input.userId, input.image, tx);
      return added;
    });
    if (!template) throw new EnrollmentError('CONSENT_REQUIRED', WITHDRAWN);
    await this.audit(input, 'success', null, { templateId: template.id, source: input.source, modelId: analysis.modelId });
    return { template, analysis };
  }

  /**
   * Re-enrollment by the person: a new photo, checked like any enrollment, replaces all their templates (and kept
   * photos) only once it passed; a refused photo changes nothing.
   */
  async replace(input: EnrollInput) {
    if (!(await this.deps.consent.inForce(input.userId))) {
      throw new EnrollmentError('CONSENT_REQUIRED', 'Your biometric consent is not in force. Ask an administrator to enroll you again.');
    }
    const analysis = await this.check(input);
    const keep = (await this.deps.settings.get()).keepImages;
    // Templates and photos are replaced together, under the consent's lock: a withdrawal in between leaves nothing.
    const written = await this.deps.consent.whileInForce(input.userId, async (tx) => {
      const replaced = await this.deps.templates.replace(input.userId, { embedding: analysis.embedding!, modelId: analysis.modelId, quality: templateQuality(analysis), source: input.source }, tx);
      const images = await this.deps.images.removeEnrollment(input.userId, tx);
      if (keep) await this.deps.images.keep(input.userId, input.image, tx);
      return { ...replaced, images };
    });
    if (!written) throw new EnrollmentError('CONSENT_REQUIRED', WITHDRAWN);
    const { template, removed, images } = written;
    await this.audit(input, 'success', null, { templateId: template.id, source: input.source, modelId: analysis.modelId, replaced: { templates: removed, images } });
    return { template, analysis, removed };
  }

  private audit(input: Pick<EnrollInput, 'actor' | 'context'> & { userId: string | null }, outcome: 'success' | 'failure', reason: string | null, details: Record<string, unknown>) {
    return this.deps.audit.record({ type: 'enroll.face', outcome, reason, userId: input.userId, actorId: collectorAccount(input.actor), ...input.context, details });
  }
}
