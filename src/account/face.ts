import type Router from '@koa/router';
import type { Context } from 'koa';
import { needsConfirmation } from '../accounts/factors.js';
import { EnrollmentError } from '../biometrics/index.js';
import { readPhotos } from '../enrollment/http.js';
import { photoVerdict } from '../enrollment/verdict.js';
import { HttpError } from '../web/errors.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { faceVerified, freshFor, requireFresh } from './access.js';
import { accountOf, contextOf, type AccountDeps } from './deps.js';
import { factorsOf } from './factors.js';
import { formField, page, redirectDone } from './page.js';

/** The person's own face data: withdrawal of the biometric consent (erasing it at once) and re-enrollment. */
export function faceRoutes(router: Router, deps: AccountDeps): void {
  async function renderWithdraw(ctx: Context, message: string | null = null, status = 200) {
    const { user } = accountOf(ctx);
    const before = await factorsOf(deps, user);
    const [templates, images] = await Promise.all([deps.templates.summary(user.id), deps.images.count(user.id)]);
    await page(
      ctx,
      'withdraw',
      { title: 'Withdraw your biometric consent', templates: templates.length, images, lastFactor: needsConfirmation(before, { ...before, face: false }), passkeys: before.passkeys, message },
      status,
    );
  }

  router.get('/face/withdraw', (ctx) => renderWithdraw(ctx));

  router.post('/face/withdraw', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { next: '/account/face/withdraw' });
    if (formField(ctx, 'confirm') !== 'yes') return renderWithdraw(ctx, 'Tick the box to confirm, or go back to keep your face sign-in.', 400);
    const erased = await deps.consent.withdraw(user.id);
    await ctx.state.audit({ type: 'consent.biometric.withdraw', outcome: 'success', userId: user.id, actorId: user.id, details: { by: 'self', ...erased } });
    redirectDone(ctx, 'consent-withdrawn');
  });

  router.get('/face/reenroll', async (ctx) => {
    const { session } = accountOf(ctx);
    if (freshFor(session) === 0 || !faceVerified(session)) return ctx.redirect('/account/verify?next=%2Faccount%2Fface%2Freenroll');
    await page(ctx, 'reenroll', { title: 'Enroll your face again', scripts: ['/static/enroll-self.js'], freshFor: freshFor(session) });
  });

  /** One camera frame from enroll-self.js; it replaces the templates only once it passed quality and liveness. */
  router.post('/face/reenroll', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: true, next: '/account/face/reenroll' });
    const { photos } = await readPhotos(ctx, { maxBytes: deps.config.face.maxUploadBytes, maxFiles: 1 });
    try {
      await withFaceErrors(() => deps.enrollment.replace({ userId: user.id, image: photos[0], source: 'account', actor: { kind: 'self' }, requireLiveness: true, context: contextOf(ctx) }));
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      throw new HttpError(err.code === 'CONSENT_REQUIRED' ? 409 : 422, err.code, err.message, {}, { verdict: err.analysis ? photoVerdict(err.analysis) : null });
    }
    ctx.body = { redirect: '/account?done=reenrolled' };
  });
}
