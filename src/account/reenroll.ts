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
const FINAL_FRAME_MESSAGE = 'Your last picture could not be used. Look straight at the camera, hold still, and start again.';

/**
 * Re-enrollment by the person, through the same head-movement challenge as a sign-in (face-check.ts): the live
 * person must still match the templates in force (a fresh session alone cannot swap the face), and the frontal frame
 * that passed the challenge becomes the new template once it also passes the enrollment quality checks.
 */
export function reenrollRoutes(router: Router, deps: AccountDeps): void {
  const check = faceCheck(router, deps, {
    page: PAGE,
    name: 'reenroll',
    surface: 'reenroll',
    faceSession: true,
    failure: { type: 'enroll.face', details: { source: 'account' } },
    async passed(ctx, user, { frame, progress, total }) {
      // The picture that becomes the template must itself be live and match the templates in force (the challenge's
      // decision may rest on another of its final frames): otherwise the person looks at the camera once more.
      const verified = await withFaceErrors(() => deps.verification.verifyFrames([frame], deps.verification.enrolledTemplates(user.id)));
      if (verified.outcome !== 'verified') {
        await ctx.state.audit({ type: 'enroll.face', outcome: 'failure', reason: 'FINAL_FRAME_NOT_VERIFIED', userId: user.id, actorId: user.id, details: { source: 'account', method: 'challenge', outcome: verified.outcome } });
        replyRefused(ctx, new HttpError(422, 'FINAL_FRAME_NOT_VERIFIED', FINAL_FRAME_MESSAGE), { ...progress, status: 'failed' }, total);
        return;
      }
      try {
        // The frame verified against the templates in force; it must also be good enough to enroll.
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
