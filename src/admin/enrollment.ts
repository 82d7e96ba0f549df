import type Router from '@koa/router';
import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { CONSENT_TEXT, CONSENT_TEXT_VERSION } from '../enrollment/consent.js';
import { readPhotos, withFaceErrors } from '../enrollment/http.js';
import { EnrollmentError, enrollPhoto } from '../enrollment/index.js';
import { INVITE_TTL_HOURS } from '../enrollment/invites.js';
import { photoVerdict, type PhotoVerdict } from '../enrollment/verdict.js';
import { HttpError } from '../web/errors.js';
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

const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json';

/**
 * Face enrollment by an administrator: record the person's consent, then add photos (upload or the admin's camera).
 * The page's script first asks /enroll/preview for the verdict (quality codes, face boxes), then posts the same
 * photo again to /enroll to keep it. Nothing is held on the server between the two calls: the accept re-checks
 * the very bytes it stores, and an abandoned preview leaves no image behind.
 */
export function enrollmentRoutes(router: Router, deps: AdminDeps): void {
  async function consentOf(user: User) {
    const consent = await deps.prisma.biometricConsent.findFirst({ where: { userId: user.id, revokedAt: null }, orderBy: { givenAt: 'desc' } });
    if (!consent) return null;
    const collector = /^[0-9a-f-]{36}$/i.test(consent.collectedBy) ? await deps.users.byId(consent.collectedBy) : null;
    const by = collector ? collector.name : consent.collectedBy === 'self' ? 'the person, through an invite link' : consent.collectedBy === 'cli' ? 'the command line' : 'a deleted administrator';
    return { ...consent, by };
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
        templates: templates.map((t) => ({ ...t, current: t.modelId === deps.engine.modelId })),
        modelId: deps.engine.modelId,
        consent,
        consentText: CONSENT_TEXT,
        consentVersion: CONSENT_TEXT_VERSION,
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
    if (!(await deps.templates.hasActiveConsent(user.id))) {
      throw new HttpError(409, 'CONSENT_REQUIRED', 'Record the biometric consent before enrolling a face.');
    }
  }

  router.get('/users/:id/enroll', async (ctx) => renderEnroll(ctx, await userParam(ctx, deps)));

  router.post('/users/:id/consent', async (ctx) => {
    const user = await userParam(ctx, deps);
    if (!checked(formOf(ctx), 'confirm')) {
      return renderEnroll(ctx, user, { message: 'Tick the box to confirm that the person read the notice and agreed.' }, 400);
    }
    if (!(await deps.templates.hasActiveConsent(user.id))) {
      await deps.templates.recordConsent(user.id, adminOf(ctx).id);
      await recordAction(ctx, deps.audit, 'consent.record', { userId: user.id, details: { textVersion: CONSENT_TEXT_VERSION } });
    }
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'consent-recorded');
  });

  /** Withdrawal ends the consent and erases what it covered, in one transaction. */
  router.post('/users/:id/consent/withdraw', async (ctx) => {
    const user = await userParam(ctx, deps);
    const [consents, templates, images] = await deps.prisma.$transaction([
      deps.prisma.biometricConsent.updateMany({ where: { userId: user.id, revokedAt: null }, data: { revokedAt: new Date() } }),
      deps.prisma.faceTemplate.deleteMany({ where: { userId: user.id } }),
      deps.prisma.storedImage.deleteMany({ where: { userId: user.id } }),
    ]);
    await recordAction(ctx, deps.audit, 'consent.withdraw', { userId: user.id, details: { consents: consents.count, templates: templates.count, images: images.count } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'consent-withdrawn');
  });

  router.post('/users/:id/enroll/preview', async (ctx) => {
    const user = await userParam(ctx, deps);
    await requireConsent(user);
    const { photos } = await readPhotos(ctx, { maxBytes: deps.config.face.maxUploadBytes, maxFiles: 1 });
    const analysis = await withFaceErrors(() => deps.engine.analyze(photos[0], 'enroll'));
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
      const { template } = await withFaceErrors(() => enrollPhoto(deps, { userId: user.id, image: photo, source, actor: adminOf(ctx).id }));
      if (json) {
        ctx.body = { ok: true, template: { id: template.id, quality: template.quality, source: template.source } };
        return;
      }
      redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'enrolled');
    } catch (err) {
      if (err instanceof EnrollmentError) {
        const verdict = err.analysis ? photoVerdict(err.analysis) : null;
        if (json) {
          ctx.status = err.code === 'CONSENT_REQUIRED' ? 409 : 422;
          ctx.body = { ok: false, error: err.code, message: err.message, verdict };
          return;
        }
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
    await recordAction(ctx, deps.audit, 'template.remove', { userId: user.id, details: { templateId } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'template-removed');
  });

  /** After a face model change: templates of the old model no longer match anything and only take up space. */
  router.post('/users/:id/outdated-templates/delete', async (ctx) => {
    const user = await userParam(ctx, deps);
    const { count } = await deps.prisma.faceTemplate.deleteMany({ where: { userId: user.id, modelId: { not: deps.engine.modelId } } });
    await recordAction(ctx, deps.audit, 'template.remove_outdated', { userId: user.id, details: { count, modelId: deps.engine.modelId } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'outdated-removed');
  });

  router.post('/users/:id/invite', async (ctx) => {
    const user = await userParam(ctx, deps);
    if (user.status !== 'ACTIVE') return renderEnroll(ctx, user, { message: 'Enable the account before inviting the person to enroll.' }, 400);
    const { token, expiresAt } = await deps.invites.create(user.id, adminOf(ctx).id);
    await recordAction(ctx, deps.audit, 'enroll.invite', { userId: user.id, details: { expiresAt: expiresAt.toISOString() } });
    // Shown once, on this response only: the database keeps a hash.
    await renderEnroll(ctx, user, { inviteLink: `${deps.config.issuer}/enroll/${token}`, inviteExpires: expiresAt });
  });
}
