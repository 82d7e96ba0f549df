import type Router from '@koa/router';
import { EnrollmentError } from '../biometrics/index.js';
import { photoVerdict } from '../enrollment/verdict.js';
import { publicProgress, replyRefused } from '../interaction/face-challenge.js';
import { HttpError } from '../web/errors.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { faceVerified, freshFor } from './access.js';
import { accountOf, contextOf, type AccountDeps } from './deps.js';
import { faceCheck } from './face-check.js';
import { page } from './page.js';

const PAGE = '/account/face/reenroll';

/**
 * Re-enrollment by the person, through the same head-movement challenge as a sign-in (face-check.ts): the live
 * person must still match the templates in force (a fresh session alone cannot swap the face), and the frontal frame
 * that passed the challenge becomes the new template once it also passes the enrollment quality checks.
 */
export function reenrollRoutes(router: Router, deps: AccountDeps): void {
  const check = faceCheck(router, deps, {
    page: PAGE,
    name: 'reenroll',
    faceSession: true,
    failure: { type: 'enroll.face', details: { source: 'account' } },
    async passed(ctx, user, { frame, progress, total }) {
      try {
        // The frame that decided is frontal and was judged live and a match; it must also be good enough to enroll.
        await withFaceErrors(() => deps.enrollment.replace({ userId: user.id, image: frame, source: 'account', actor: { kind: 'self' }, requireLiveness: false, context: contextOf(ctx) }));
      } catch (err) {
        if (!(err instanceof EnrollmentError)) throw err;
        const refusal = new HttpError(err.code === 'CONSENT_REQUIRED' ? 409 : 422, err.code, err.message, {}, { verdict: err.analysis ? photoVerdict(err.analysis) : null });
        replyRefused(ctx, refusal, { ...progress, status: 'failed' }, total);
        return;
      }
      ctx.body = { progress: publicProgress(progress, total), redirect: '/account?done=reenrolled' };
    },
  });

  router.get('/face/reenroll', async (ctx) => {
    const { user, session } = accountOf(ctx);
    if (freshFor(session) === 0 || !faceVerified(session)) return ctx.redirect(`/account/verify?next=${encodeURIComponent(PAGE)}`);
    await page(ctx, 'reenroll', { title: 'Enroll your face again', scripts: ['/static/face-challenge.js'], freshFor: freshFor(session), ...(await check.page(ctx, user)) });
  });
}
