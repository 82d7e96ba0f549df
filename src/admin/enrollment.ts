import type Router from '@koa/router';
import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { type Collector, EnrollmentError, INVITE_TTL_HOURS } from '../biometrics/index.js';
import { readPhotos } from '../enrollment/http.js';
import { sameEmbeddingSpace } from '../face/index.js';
import { photoVerdict, type PhotoVerdict } from '../enrollment/verdict.js';
import { HttpError, wantsJson } from '../web/errors.js';
import { auditContext } from '../web/audit.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { recordAction } from './actions.js';
import { userParam, type AdminDeps } from './deps.js';
import { adminOf, checked, formOf, page, redirectDone } from './page.js';

const SOURCES = new Set(['upload', 'camera']);

interface EnrollPageExtras {
  message?: string | null;
  verdict?: PhotoVerdict | null;
  inviteLink?: string | null;
  inviteExpires?: Date | null;
}

/**
 * Face enrollment by an administrator: record the person's consent, then add photos (upload or the admin's camera).
 * The page's script first asks /enroll/preview for the verdict (quality codes, face boxes), then posts the same
 * photo again to /enroll to keep it. Nothing is held on the server between the two calls: the accept re-checks
 * the very bytes it stores, and an abandoned preview leaves no image behind.
 */
export function enrollmentRoutes(router: Router, deps: AdminDeps): void {
  async function collectorName(c: Collector): Promise<string> {
    if (c.kind === 'self') return 'the person, through an invite link';
    if (c.kind === 'cli') return 'the command line';
    return (await deps.users.byId(c.adminId))?.name ?? 'a deleted administrator';
  }

  async function consentOf(user: User) {
    const consent = await deps.consent.current(user.id);
    return consent ? { ...consent, by: await collectorName(consent.collector) } : null;
  }

  async function renderEnroll(ctx: Context, user: User, extras: EnrollPageExtras = {}, status = 200) {
    const [templates, consent, invite, settings] = await Promise.all([
      deps.templates.summary(user.id),
      consentOf(user),
      deps.invites.pending(user.id),
      deps.settings.get(),
    ]);
    await page(
      ctx,
      'users/enroll',
      {
        title: `Face enrollment · ${user.name}`,
        section: 'users',
        account: user,
        templates: templates.map((t) => ({ ...t, current: sameEmbeddingSpace(t.modelId, deps.engine.modelId) })),
        modelId: deps.engine.modelId,
        consent,
        consentText: deps.consent.text,
        consentVersion: deps.consent.version,
        invite,
        inviteTtlHours: INVITE_TTL_HOURS,
        keepImages: settings.keepImages,
        maxBytes: deps.config.face.maxUploadBytes,
        message: null,
        verdict: null,
        inviteLink: null,
        ...extras,
      },
      status,
    );
  }

  async function requireConsent(user: User) {
    if (!(await deps.consent.inForce(user.id))) {
      throw new HttpError(409, 'CONSENT_REQUIRED', 'Record the biometric consent before enrolling a face.');
    }
  }

  router.get('/users/:id/enroll', async (ctx) => renderEnroll(ctx, await userParam(ctx, deps)));

  router.post('/users/:id/consent', async (ctx) => {
    const user = await userParam(ctx, deps);
    if (!checked(formOf(ctx), 'confirm')) {
      return renderEnroll(ctx, user, { message: 'Tick the box to confirm that the person read the notice and agreed.' }, 400);
    }
    if (await deps.consent.record(user.id, { kind: 'admin', adminId: adminOf(ctx).id })) {
      await recordAction(ctx, 'consent.record', { userId: user.id, details: { textVersion: deps.consent.version } });
    }
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'consent-recorded');
  });

  /** Withdrawal ends the consent and erases what it covered, in one transaction. */
  router.post('/users/:id/consent/withdraw', async (ctx) => {
    const user = await userParam(ctx, deps);
    const erased = await deps.consent.withdraw(user.id);
    // The sign-ins made with the face rest on the consent just withdrawn: their sessions end and their apps are told.
    const appsSignedOut = await deps.sessions.endFaceSignIns(user.id);
    await recordAction(ctx, 'consent.withdraw', { userId: user.id, details: { ...erased, appsSignedOut } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'consent-withdrawn');
  });

  router.post('/users/:id/enroll/preview', async (ctx) => {
    const user = await userParam(ctx, deps);
    await requireConsent(user);
    const { photos } = await readPhotos(ctx, { maxBytes: deps.config.face.maxUploadBytes, maxFiles: 1 });
    const analysis = await withFaceErrors(() => deps.enrollment.preview(photos[0]));
    ctx.body = { verdict: photoVerdict(analysis), bytes: photos[0].length };
  });

  router.post('/users/:id/enroll', async (ctx) => {
    const user = await userParam(ctx, deps);
    const json = wantsJson(ctx);
    let photo: Buffer;
    let source: string;
    try {
      const upload = await readPhotos(ctx, { maxBytes: deps.config.face.maxUploadBytes, maxFiles: 1 });
      photo = upload.photos[0];
      source = SOURCES.has(upload.fields.source) ? upload.fields.source : 'upload';
    } catch (err) {
      if (json || !(err instanceof HttpError)) throw err;
      return renderEnroll(ctx, user, { message: err.message }, err.status);
    }
    try {
      const { template } = await withFaceErrors(() =>
        deps.enrollment.enroll({ userId: user.id, image: photo, source, actor: { kind: 'admin', adminId: adminOf(ctx).id }, context: auditContext(ctx) }),
      );
      if (json) {
        ctx.body = { template: { id: template.id, quality: template.quality, source: template.source } };
        return;
      }
      redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'enrolled');
    } catch (err) {
      if (err instanceof EnrollmentError) {
        const verdict = err.analysis ? photoVerdict(err.analysis) : null;
        if (json) throw new HttpError(err.code === 'CONSENT_REQUIRED' ? 409 : 422, err.code, err.message, {}, { verdict });
        const message = verdict?.issues.length ? 'The photo was not added; the reasons are listed under “Add photos”.' : err.message;
        return renderEnroll(ctx, user, { message, verdict }, err.code === 'CONSENT_REQUIRED' ? 409 : 422);
      }
      if (json || !(err instanceof HttpError)) throw err;
      return renderEnroll(ctx, user, { message: err.message }, err.status);
    }
  });

  router.post('/users/:id/templates/:templateId/delete', async (ctx) => {
    const user = await userParam(ctx, deps);
    const templateId = String(ctx.params.templateId);
    if (!(await deps.templates.remove(user.id, templateId))) throw new HttpError(404, 'TEMPLATE_NOT_FOUND', 'This face template was already removed.');
    await recordAction(ctx, 'template.remove', { userId: user.id, details: { templateId } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'template-removed');
  });

  /** After a face model change: templates of the old model no longer match anything and only take up space. */
  router.post('/users/:id/outdated-templates/delete', async (ctx) => {
    const user = await userParam(ctx, deps);
    const count = await deps.templates.removeOutdated(user.id, deps.engine.modelId);
    await recordAction(ctx, 'template.remove_outdated', { userId: user.id, details: { count, modelId: deps.engine.modelId } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'outdated-removed');
  });

  router.post('/users/:id/invite', async (ctx) => {
    const user = await userParam(ctx, deps);
    if (user.status !== 'ACTIVE') return renderEnroll(ctx, user, { message: 'Enable the account before inviting the person to enroll.' }, 400);
    const { token, expiresAt } = await deps.invites.create(user.id, adminOf(ctx).id);
    await recordAction(ctx, 'enroll.invite', { userId: user.id, details: { expiresAt: expiresAt.toISOString() } });
    // Shown once, on this response only: the database keeps a hash.
    await renderEnroll(ctx, user, { inviteLink: `${deps.config.issuer}/enroll/${token}`, inviteExpires: expiresAt });
  });
}
