import Router from '@koa/router';
import type { Context } from 'koa';
import type { UserStore } from '../accounts/users.js';
import { HttpError } from '../web/errors.js';
import type { Csrf } from '../web/csrf.js';
import { render } from '../web/views.js';
import { CONSENT_TEXT, CONSENT_TEXT_VERSION } from './consent.js';
import { EnrollmentError, enrollPhoto, type EnrollmentDeps } from './index.js';
import type { Invite, InviteStore } from './invites.js';
import { readPhotos, withFaceErrors } from './http.js';
import { photoVerdict } from './verdict.js';

export interface SelfEnrollmentDeps extends EnrollmentDeps {
  users: UserStore;
  invites: InviteStore;
  csrf: Csrf;
  maxUploadBytes: number;
}

const GONE = 'This enrollment link has expired or was already used. Ask your administrator for a new one.';

/**
 * /enroll/:token — a person enrolls their own face from an invite link: they read and accept the biometric notice
 * themselves, then take a selfie with their camera; the passive liveness check must pass since nobody watches.
 */
export function selfEnrollmentRouter(deps: SelfEnrollmentDeps): Router {
  const router = new Router({ prefix: '/enroll' });

  async function load(ctx: Context): Promise<{ invite: Invite; name: string }> {
    const invite = await deps.invites.open(String(ctx.params.token));
    const user = invite ? await deps.users.byId(invite.userId) : null;
    if (!invite || !user || user.status !== 'ACTIVE') throw new HttpError(410, 'ENROLL_LINK_INVALID', GONE);
    return { invite, name: user.name };
  }

  const binding = (invite: Invite) => `enroll:${invite.id}`;

  router.get('/:token', async (ctx) => {
    const { invite, name } = await load(ctx);
    await render(ctx, 'enroll/invite', {
      title: 'Enroll your face',
      token: ctx.params.token,
      name,
      consented: await deps.templates.hasActiveConsent(invite.userId),
      consentText: CONSENT_TEXT,
      consentVersion: CONSENT_TEXT_VERSION,
      expiresAt: invite.expiresAt,
      csrf: deps.csrf.token(binding(invite)),
    });
  });

  router.post('/:token/consent', async (ctx) => {
    const { invite, name } = await load(ctx);
    deps.csrf.verify(ctx, binding(invite));
    if ((ctx.request.body as Record<string, unknown>)?.agree !== 'yes') {
      return render(
        ctx,
        'enroll/invite',
        { title: 'Enroll your face', token: ctx.params.token, name, consented: false, consentText: CONSENT_TEXT, consentVersion: CONSENT_TEXT_VERSION, expiresAt: invite.expiresAt, csrf: deps.csrf.token(binding(invite)), message: 'Tick the box to give your consent, or close this page if you do not agree.' },
        400,
      );
    }
    if (!(await deps.templates.hasActiveConsent(invite.userId))) {
      await deps.templates.recordConsent(invite.userId, 'self');
      await deps.audit.record({ type: 'consent.biometric', outcome: 'success', userId: invite.userId, ip: ctx.ip, userAgent: ctx.get('user-agent'), details: { textVersion: CONSENT_TEXT_VERSION, collectedBy: 'self' } });
    }
    ctx.redirect(`/enroll/${encodeURIComponent(String(ctx.params.token))}`);
  });

  /** Called by enroll-self.js with one camera frame; answers JSON with the verdict or where to go next. */
  router.post('/:token/photo', async (ctx) => {
    const { invite } = await load(ctx);
    deps.csrf.verify(ctx, binding(invite));
    const { photos } = await readPhotos(ctx, { maxBytes: deps.maxUploadBytes, maxFiles: 1 });
    if (!(await deps.invites.claim(invite.id))) throw new HttpError(410, 'ENROLL_LINK_INVALID', GONE);
    try {
      await withFaceErrors(() => enrollPhoto(deps, { userId: invite.userId, image: photos[0], source: 'invite', actor: 'self', requireLiveness: true }));
    } catch (err) {
      await deps.invites.release(invite.id);
      if (!(err instanceof EnrollmentError)) throw err;
      ctx.status = 422;
      ctx.body = { ok: false, code: err.code, message: err.message, verdict: err.analysis ? photoVerdict(err.analysis) : null };
      return;
    }
    ctx.body = { ok: true, redirect: `/enroll/${encodeURIComponent(String(ctx.params.token))}/done` };
  });

  router.get('/:token/done', async (ctx) => {
    const userId = await deps.invites.usedBy(String(ctx.params.token));
    const user = userId ? await deps.users.byId(userId) : null;
    if (!user) throw new HttpError(404, 'NOT_FOUND', 'There is nothing to show here.');
    await render(ctx, 'enroll/done', { title: 'Face enrolled', name: user.name, isAdmin: user.roles.includes('admin') });
  });

  return router;
}
