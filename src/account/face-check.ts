import type Router from '@koa/router';
import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { challengeForPage, failureError, judgeFrame, publicProgress, replyRefused } from '../interaction/face-challenge.js';
import { blockedMessage, delayed } from '../interaction/face-refusals.js';
import { inspectFrame, readFrames } from '../interaction/frames.js';
import type { ChallengeAttempt, ChallengeSurface, FrameOutcome } from '../verification/index.js';
import { deviceOrigin } from '../web/device-cookie.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { requireFresh } from './access.js';
import { accountOf, type AccountDeps } from './deps.js';

const BUSY = 'This page is sending too many pictures. Wait a minute and try again.';
/** As in a sign-in: the page streams 6–8 frames a second and a challenge lasts at most a minute. */
const FRAMES_PER_MINUTE = 600;
const CHALLENGES_PER_MINUTE = 20;

/** A passed challenge: its decisive (frontal, live, matching) frame and the progress to answer with. */
export type Passed = Extract<FrameOutcome, { status: 'passed' }> & { frame: Uint8Array };

/**
 * One use of the head-movement challenge on the account pages (re-enrollment, the first passkey): where its page is,
 * its name in the shared store, whether the session itself must come from a face sign-in, and what a pass does.
 */
export interface FaceCheck {
  page: string;
  name: string;
  /** The field statistics' surface; 'account' unless given. */
  surface?: ChallengeSurface;
  faceSession: boolean;
  /** The audit event a failed challenge is recorded as. */
  failure: { type: string; details: Record<string, unknown> };
  /** What this use tells the person for a failed challenge instead of the verifier's code and message; null keeps them. */
  explain?(outcome: Extract<FrameOutcome, { status: 'failed' }>): { code: string; message: string } | null;
  /** Answers the passed frame's request (ctx.body, or a refusal through replyRefused). */
  passed(ctx: Context, user: User, passed: Passed): Promise<void>;
}

/** What the page's challenge partial needs: a challenge drawn now, or why none can be taken. */
export interface FaceCheckPage {
  challenge: ReturnType<typeof challengeForPage> | null;
  status: string | null;
  retryAfter: number;
  locked: boolean;
}

/**
 * The account pages' head-movement challenge, the same as a sign-in's: the live person must match the templates in
 * force, and it is a face attempt of the account like a sign-in's (failures count towards its limits). One challenge
 * per account and use in the shared store: a second tab replaces the first's.
 */
export function faceCheck(router: Router, deps: AccountDeps, check: FaceCheck) {
  const { verification } = deps;
  const key = (user: User) => `${check.name}:${user.id}`;
  // The router is mounted under /account.
  const path = check.page.replace(/^\/account/, '');
  const attemptOf = (ctx: Context, user: User): ChallengeAttempt => ({
    subject: { userId: user.id, identifier: user.email },
    origin: deviceOrigin(ctx, verification.devices, user.id),
    ip: rateKeyForIp(ctx.ip),
    templates: () => verification.enrolledTemplates(user.id),
  });

  router.post(`${path}/challenge`, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: check.faceSession, next: check.page });
    await deps.rate.enforce(`${check.name}-challenge:${user.id}`, CHALLENGES_PER_MINUTE, BUSY);
    const { subject, origin } = attemptOf(ctx, user);
    const verdict = await verification.attempts.check('face', subject, origin);
    if (!verdict.allowed) throw delayed(verdict.locked, verdict.retryAfter);
    // Every challenge is its own sitting for replay screening: frames of an earlier attempt are refused in a later one.
    const surface = check.surface ?? 'account';
    ctx.body = { challenge: challengeForPage(await verification.challenges.start(key(user), { subject, surface })) };
  });

  router.post(`${path}/challenge/frame`, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: check.faceSession, next: check.page });
    await deps.rate.enforce(`${check.name}-frame:${user.id}`, FRAMES_PER_MINUTE, BUSY);
    const upload = await readFrames(ctx.req, 1);
    // The server's clock when the frame arrived, never a time the page sent.
    const now = Date.now();
    const [frame] = upload.frames;
    await inspectFrame(frame);
    const outcome = await judgeFrame(() => verification.challenges.frame(key(user), upload.fields.challenge ?? '', frame, now, attemptOf(ctx, user)));
    if (outcome.status === 'in_progress') {
      ctx.body = { progress: publicProgress(outcome.progress, outcome.total) };
      return;
    }
    if (outcome.status === 'failed') {
      const failed = { ...outcome, ...check.explain?.(outcome) };
      await ctx.state.audit({ type: check.failure.type, outcome: 'failure', reason: failed.code, userId: user.id, actorId: user.id, details: { ...check.failure.details, method: 'challenge', verifierCode: outcome.code } });
      replyRefused(ctx, failureError('/account', failed), outcome.progress, outcome.total);
      return;
    }
    await check.passed(ctx, user, { ...outcome, frame });
  });

  return {
    /**
     * What the page shows: why no challenge can be taken now, if so. The page draws its challenge with a POST once
     * its camera runs (nobody knows the movements before); a page view changes nothing.
     */
    async page(ctx: Context, user: User): Promise<FaceCheckPage> {
      const { subject, origin } = attemptOf(ctx, user);
      const verdict = await verification.attempts.check('face', subject, origin);
      const status = blockedMessage(verdict);
      return { challenge: null, status, retryAfter: verdict.allowed ? 0 : verdict.retryAfter, locked: !verdict.allowed && verdict.locked };
    },
  };
}
