import type Router from '@koa/router';
import type { Context } from 'koa';
import { embeddedAnalyses, type Progress } from '../challenge/index.js';
import { ChallengeRefusal, type FrameOutcome } from '../verification/index.js';
import { summarizeAgent } from '../web/device.js';
import { errorBody, HttpError } from '../web/errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { countedFailure, delayed, recordedReason, SIGN_IN_BUSY } from './face-refusals.js';
import { inspectFrame, readFrames } from './frames.js';
import type { InteractionKit, Loaded } from './kit.js';

/** The page streams 6–8 frames a second; a sign-in may send a minute of that with room to spare. */
const FRAMES_PER_SIGN_IN = 600;
/** Per address: a few people signing in at once behind one NAT. */
const FRAME_RATE_FACTOR = 10;
const CHALLENGES_PER_SIGN_IN = 20;

/** What the page shows of the challenge after each frame; never a score. */
export function publicProgress(p: Progress, total: number) {
  return { status: p.status, step: p.step, stepIndex: p.stepIndex, total, hint: p.hint, remainingMs: Math.max(0, Math.round(p.remainingMs)) };
}

/** The challenge as the page starts it: its id and lifetime; the movements are revealed one at a time by progress. */
export function challengeForPage(c: { id: string; movements: unknown[]; createdAt: number; expiresAt: number }) {
  return { id: c.id, total: c.movements.length, lifetimeMs: c.expiresAt - c.createdAt };
}

/** A frame the challenge could not judge: the limits' delay, or the refusal's own status and code. */
function refusalError(err: ChallengeRefusal): HttpError {
  return err.code === 'FACE_DELAYED' ? delayed(Boolean(err.locked), err.retryAfter ?? 1) : new HttpError(err.status, err.code, err.message);
}

/** Judges one frame; a frame the challenge could not judge, or the engine could not read, becomes an HttpError. */
export async function judgeFrame(judge: () => Promise<FrameOutcome>): Promise<FrameOutcome> {
  try {
    return await withFaceErrors(judge);
  } catch (err) {
    throw err instanceof ChallengeRefusal ? refusalError(err) : err;
  }
}

/** A decided failure: counted as a failed verification (401, NIST delay; a lockout sends the page `back`), or 422 when it did not count. */
export function failureError(back: string, outcome: Extract<FrameOutcome, { status: 'failed' }>): HttpError {
  return outcome.outcome ? countedFailure(back, outcome.code, outcome.message, outcome.outcome) : new HttpError(422, outcome.code, outcome.message);
}

/** Answers a refused or failed frame as an error that still carries the progress, so the page shows how far it got. */
export function replyRefused(ctx: Context, refusal: HttpError, progress: Progress, total: number): void {
  ctx.status = refusal.status;
  ctx.set(refusal.headers);
  ctx.body = { ...errorBody(refusal, ctx.state.requestId), progress: publicProgress(progress, total) };
}

/**
 * One audit event and one sign-in metric per decided challenge (frames and codes; scores stay in the details), for
 * the account the challenge was drawn for (its owner), which is the one its frames were matched against.
 */
async function record(ctx: Context, kit: InteractionKit, loaded: Loaded, outcome: Exclude<FrameOutcome, { status: 'in_progress' }>): Promise<void> {
  const success = outcome.status === 'passed';
  const code = success ? 'VERIFIED' : outcome.code;
  const reason = recordedReason(Boolean(outcome.owner.userId), code);
  kit.deps.metrics.signIns.inc({ factor: 'face', outcome: success ? 'success' : 'failure', reason: reason.toLowerCase() });
  const d = outcome.decision;
  const score = (key: string) => (typeof d?.details[key] === 'number' ? (d.details[key] as number) : null);
  await kit.audit(ctx, loaded, {
    type: 'signin.face',
    outcome: success ? 'success' : 'failure',
    reason: success ? null : reason,
    details: {
      method: 'challenge',
      challenge: d?.challenge.movements.join(',') ?? null,
      completed: d?.completed.join(',') ?? null,
      frames: d?.frames ?? null,
      analysed: d?.frames ?? 0,
      embedded: d ? embeddedAnalyses(d.analysed) : 0,
      cpuMs: d ? Math.round(d.cpuMs) : null,
      // The final frontal frame's scores, as for a passive capture (never shown to the page or the app).
      similarity: outcome.owner.userId ? score('similarity') : null,
      liveness: score('liveness'),
      agent: summarizeAgent(ctx.get('user-agent')),
    },
  }, outcome.owner);
}

/**
 * The challenge routes of the face step (JSON; CSRF as a field or the X-CSRF-Token header):
 * `POST …/face/challenge` draws a new challenge; `POST …/face/challenge/frame` (multipart `_csrf`, `challenge`, one
 * `frame`) judges one frame on the server's clock and answers the progress, or `{ redirect }` once passed.
 */
export function challengeRoutes(router: Router, kit: InteractionKit, expectChallenge: (loaded: Loaded) => void): void {
  const perIp = () => kit.deps.config.limits.perIpPerMinute;

  router.post('/interaction/:uid/face/challenge', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const loaded = await kit.load(ctx);
    await kit.deps.rate.enforce(`face-challenge-ix:${loaded.uid}`, CHALLENGES_PER_SIGN_IN, SIGN_IN_BUSY);
    kit.verifyCsrf(ctx, loaded.uid);
    expectChallenge(loaded);
    const { verification } = kit.deps;
    const subject = kit.subject(loaded);
    // Nothing is drawn while the limits make the person wait: the page shows the wait instead.
    const verdict = await verification.attempts.check('face', subject, kit.origin(ctx, loaded));
    if (!verdict.allowed) throw delayed(verdict.locked, verdict.retryAfter);
    // Drawn for the identifier of this sign-in, and only for it: frames after a new `/identify` end it.
    const challenge = await verification.challenges.start(loaded.uid, { subject, surface: 'signin', sitting: loaded.uid });
    ctx.body = { challenge: challengeForPage(challenge) };
  });

  router.post('/interaction/:uid/face/challenge/frame', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const loaded = await kit.load(ctx);
    await kit.deps.rate.enforceIp(ctx, 'face-frame', FRAME_RATE_FACTOR * perIp());
    await kit.deps.rate.enforce(`face-frame-ix:${loaded.uid}`, FRAMES_PER_SIGN_IN, SIGN_IN_BUSY);
    const upload = await readFrames(ctx.req, 1);
    // The server's clock when the frame arrived, never a time the page sent.
    const now = Date.now();
    ctx.request.body = upload.fields;
    kit.verifyCsrf(ctx, loaded.uid);
    expectChallenge(loaded);
    const [frame] = upload.frames;
    await inspectFrame(frame);
    const { verification } = kit.deps;
    const outcome = await judgeFrame(() =>
      verification.challenges.frame(loaded.uid, upload.fields.challenge ?? '', frame, now, {
        subject: kit.subject(loaded),
        origin: kit.origin(ctx, loaded),
        ip: rateKeyForIp(ctx.ip),
        templates: () => (loaded.user ? verification.enrolledTemplates(loaded.user.id) : Promise.resolve([])),
      }),
    );
    const { total } = outcome;
    if (outcome.status === 'in_progress') {
      ctx.body = { progress: publicProgress(outcome.progress, total) };
      return;
    }
    await record(ctx, kit, loaded, outcome);
    if (outcome.status === 'passed') {
      ctx.body = { progress: publicProgress(outcome.progress, total), redirect: await kit.advance(ctx, loaded, { face: true, liveness: true }) };
      return;
    }
    replyRefused(ctx, failureError(`/interaction/${loaded.uid}`, outcome), outcome.progress, total);
  });
}
