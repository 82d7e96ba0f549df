import type Router from '@koa/router';
import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { EnrollmentError } from '../biometrics/index.js';
import { photoVerdict } from '../enrollment/verdict.js';
import { challengeForPage, failureError, judgeFrame, publicProgress, replyRefused } from '../interaction/face-challenge.js';
import { blockedMessage } from '../interaction/face-refusals.js';
import { inspectFrame, readFrames } from '../interaction/frames.js';
import type { ChallengeAttempt } from '../verification/index.js';
import { deviceOrigin } from '../web/device-cookie.js';
import { HttpError } from '../web/errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { faceVerified, freshFor, requireFresh } from './access.js';
import { accountOf, contextOf, type AccountDeps } from './deps.js';
import { page } from './page.js';

const PAGE = '/account/face/reenroll';
const BUSY = 'This page is sending too many pictures. Wait a minute and try again.';
/** As in a sign-in: the page streams 4 frames a second and a challenge lasts at most a minute. */
const FRAMES_PER_MINUTE = 360;
const CHALLENGES_PER_MINUTE = 20;

/** One re-enrollment challenge per account in the shared store: a second tab replaces the first's. */
const challengeKey = (user: User) => `reenroll:${user.id}`;

/**
 * Re-enrollment by the person, through the same head-movement challenge as a sign-in: the live person must still
 * match the templates in force (a fresh session alone cannot swap the face), and the frontal frame that passed the
 * challenge becomes the new template once it also passes the enrollment quality checks. The challenge is a face
 * attempt of the account like a sign-in's: failures count towards its limits.
 */
export function reenrollRoutes(router: Router, deps: AccountDeps): void {
  const { verification } = deps;
  const attemptOf = (ctx: Context, user: User): ChallengeAttempt => ({
    subject: { userId: user.id, identifier: user.email },
    origin: deviceOrigin(ctx, verification.devices, user.id),
    ip: rateKeyForIp(ctx.ip),
    templates: () => verification.enrolledTemplates(user.id),
  });

  router.get('/face/reenroll', async (ctx) => {
    const { user, session } = accountOf(ctx);
    if (freshFor(session) === 0 || !faceVerified(session)) return ctx.redirect(`/account/verify?next=${encodeURIComponent(PAGE)}`);
    const { subject, origin } = attemptOf(ctx, user);
    const verdict = await verification.attempts.check('face', subject, origin);
    const blocked = blockedMessage(verdict);
    // Drawn when the page is shown, as in a sign-in: nobody knows the movements before.
    const challenge = blocked ? null : challengeForPage(await verification.challenges.start(challengeKey(user)));
    await page(ctx, 'reenroll', {
      title: 'Enroll your face again',
      scripts: ['/static/face-challenge.js'],
      freshFor: freshFor(session),
      challenge,
      status: blocked,
      retryAfter: verdict.allowed ? 0 : verdict.retryAfter,
      locked: !verdict.allowed && verdict.locked,
    });
  });

  router.post('/face/reenroll/challenge', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: true, next: PAGE });
    await deps.rate.enforce(`reenroll-challenge:${user.id}`, CHALLENGES_PER_MINUTE, BUSY);
    ctx.body = { challenge: challengeForPage(await verification.challenges.start(challengeKey(user))) };
  });

  router.post('/face/reenroll/challenge/frame', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: true, next: PAGE });
    await deps.rate.enforce(`reenroll-frame:${user.id}`, FRAMES_PER_MINUTE, BUSY);
    const upload = await readFrames(ctx.req, 1);
    // The server's clock when the frame arrived, never a time the page sent.
    const now = Date.now();
    const [frame] = upload.frames;
    await inspectFrame(frame);
    const outcome = await judgeFrame(() => verification.challenges.frame(challengeKey(user), upload.fields.challenge ?? '', frame, now, attemptOf(ctx, user)));
    const { total } = outcome;
    if (outcome.status === 'in_progress') {
      ctx.body = { progress: publicProgress(outcome.progress, total) };
      return;
    }
    if (outcome.status === 'failed') {
      await ctx.state.audit({ type: 'enroll.face', outcome: 'failure', reason: outcome.code, userId: user.id, actorId: user.id, details: { source: 'account', method: 'challenge' } });
      replyRefused(ctx, failureError('/account', outcome), outcome.progress, total);
      return;
    }
    try {
      // The frame that decided is frontal and was judged live and a match; it must also be good enough to enroll.
      await withFaceErrors(() => deps.enrollment.replace({ userId: user.id, image: frame, source: 'account', actor: { kind: 'self' }, requireLiveness: false, context: contextOf(ctx) }));
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      const refusal = new HttpError(err.code === 'CONSENT_REQUIRED' ? 409 : 422, err.code, err.message, {}, { verdict: err.analysis ? photoVerdict(err.analysis) : null });
      replyRefused(ctx, refusal, { ...outcome.progress, status: 'failed' }, total);
      return;
    }
    ctx.body = { progress: publicProgress(outcome.progress, total), redirect: '/account?done=reenrolled' };
  });
}
