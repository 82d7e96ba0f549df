import type { Context } from 'koa';
import { QUALITY_MESSAGES } from '../face/index.js';
import { passiveFaceAllowed } from '../oidc/policy.js';
import { faceMode } from '../sign-in/plan.js';
import type { AttemptDecision, CountedAttempt } from '../verification/index.js';
import { summarizeAgent } from '../web/device.js';
import { errorBody, HttpError } from '../web/errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { render } from '../web/views.js';
import { challengeRoutes } from './face-challenge.js';
import { blockedMessage, countedFailure, delayed, recordedReason, SIGN_IN_BUSY } from './face-refusals.js';
import { inspectFrame, readFrames } from './frames.js';
import { guidance } from './guidance.js';
import type { InteractionKit, Loaded } from './kit.js';
import type { Step } from './step.js';

const MAX_CAPTURE_FRAMES = 3;
/** Live guidance polls about every 0.7 s, so it gets this many times the per-IP budget of captures. */
const CHECK_RATE_FACTOR = 3;
/**
 * What one sign-in may ask of the engine per minute, whatever its address: the page's guidance (about 86 checks a
 * minute) with room to spare, and captures well above what a person retries.
 */
const CHECKS_PER_SIGN_IN = 120;
const CAPTURES_PER_SIGN_IN = 12;

const MESSAGES = {
  NO_MATCH: 'We could not verify that this is you. Check that this is your account, look straight at the camera and try again.',
  LIVENESS_FAILED: 'We could not confirm that a live person is in front of the camera. Use the camera directly (not a photo or a screen), in good light, and try again.',
  FRAME_REPLAYED: 'This picture was already used to sign in. Look at the camera and take a new one.',
  CAPTURE_TOKEN_INVALID: 'This capture has expired or was already used. Try again.',
  CAPTURE_TOKEN_SUPERSEDED: 'This sign-in went on in another tab or window. Continue there, or reload this page.',
  STEP_NOT_EXPECTED: 'Face verification is not expected now. Reload the page.',
  PASSIVE_FACE_NOT_ALLOWED: 'This app needs the head-movement check. Reload the page and follow the instructions.',
} as const;

/** After these the page cannot go on: it has to reload, or the sign-in has to start again. */
const TERMINAL = new Set(['INTERACTION_EXPIRED', 'INTERACTION_MISMATCH', 'UNKNOWN_CLIENT', 'CSRF_TOKEN_INVALID', 'STEP_NOT_EXPECTED', 'FACE_LOCKED', 'PASSIVE_FACE_NOT_ALLOWED']);

/** How one capture POST ended: the redirect on success, or the refusal (status, code, message, Retry-After). */
type Attempt = { redirect: string; reason: 'VERIFIED'; decision: AttemptDecision; frames: number } | { refusal: HttpError; reason: string; decision?: AttemptDecision; frames?: number };

function expectFaceStep(loaded: Loaded): void {
  if (loaded.next.kind !== 'factor' || loaded.next.factor !== 'face') throw new HttpError(409, 'STEP_NOT_EXPECTED', MESSAGES.STEP_NOT_EXPECTED);
}

/** One passive picture establishes the face factor only for apps an administrator allowed it for (the weaker acr). */
function expectPassive(loaded: Loaded): void {
  expectFaceStep(loaded);
  if (!passiveFaceAllowed(loaded.target, loaded.client)) throw new HttpError(403, 'PASSIVE_FACE_NOT_ALLOWED', MESSAGES.PASSIVE_FACE_NOT_ALLOWED);
}

/** A refused verification stays counted (NIST delay and lockout). */
async function refuse(loaded: Loaded, attempt: CountedAttempt, code: 'NO_MATCH' | 'LIVENESS_FAILED' | 'FRAME_REPLAYED', extra: Pick<Attempt, 'decision' | 'frames'>): Promise<Attempt> {
  const refusal = countedFailure(`/interaction/${loaded.uid}`, code, MESSAGES[code], await attempt.failed());
  return { ...extra, reason: refusal.code, refusal };
}

async function capture(ctx: Context, kit: InteractionKit, loaded: Loaded): Promise<Attempt> {
  const { verification } = kit.deps;
  const upload = await readFrames(ctx.req, MAX_CAPTURE_FRAMES);
  ctx.request.body = upload.fields;
  kit.verifyCsrf(ctx, loaded.uid);
  expectPassive(loaded);
  if (!(await verification.captureTokens.consume(upload.fields.capture_token ?? '', loaded.uid))) {
    const fresh = await verification.captureTokens.reissue(loaded.uid);
    throw fresh
      ? new HttpError(400, 'CAPTURE_TOKEN_INVALID', MESSAGES.CAPTURE_TOKEN_INVALID, {}, { captureToken: fresh })
      : new HttpError(400, 'CAPTURE_TOKEN_INVALID', MESSAGES.CAPTURE_TOKEN_SUPERSEDED);
  }
  await Promise.all(upload.frames.map(inspectFrame));
  const subject = kit.subject(loaded);
  // Reserved before anything is compared, so parallel uploads cannot overtake the count.
  const start = await verification.attempts.begin('face', subject, kit.origin(ctx, loaded), rateKeyForIp(ctx.ip));
  if (!start.allowed) throw delayed(start.locked, start.retryAfter);
  const { attempt } = start;
  let decision: AttemptDecision;
  try {
    // Analysis and template decryption are independent: run them together.
    const enrolled = loaded.user ? verification.enrolledTemplates(loaded.user.id) : Promise.resolve([]);
    decision = await withFaceErrors(() => verification.verifyFrames(upload.frames, enrolled));
  } catch (err) {
    await attempt.voided();
    throw err;
  }
  const frames = upload.frames.length;
  if (decision.outcome === 'quality') {
    // Not a verification attempt: nothing was compared, so it does not count, and frames without a usable face are
    // not remembered for replay screening (a flood of them must not push real frames out of the list).
    await attempt.voided();
    const code = decision.issues[0]?.code ?? 'FACE_NOT_FOUND';
    const message = decision.issues.map((i) => i.message).join(' ') || QUALITY_MESSAGES.FACE_NOT_FOUND;
    return { reason: code, decision, frames, refusal: new HttpError(422, code, message) };
  }
  if (await verification.screenReplay(subject, loaded.uid, upload.frames)) return refuse(loaded, attempt, 'FRAME_REPLAYED', { decision, frames });
  if (decision.outcome === 'verified') {
    await attempt.succeeded();
    // One picture proves no live person answered a challenge: the face factor only, never `liveness`.
    const redirect = await kit.advance(ctx, loaded, { face: true });
    return { reason: 'VERIFIED', decision, frames, redirect };
  }
  return refuse(loaded, attempt, decision.outcome === 'liveness_failed' ? 'LIVENESS_FAILED' : 'NO_MATCH', { decision, frames });
}

const round = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** One audit event per attempt (scores stay here and in metrics; the page and the app never see them). */
async function record(ctx: Context, kit: InteractionKit, loaded: Loaded, attempt: Attempt, ms: number): Promise<void> {
  const success = 'redirect' in attempt;
  const status = success ? 200 : attempt.refusal.status;
  const reason = recordedReason(Boolean(loaded.user), attempt.reason);
  const d = attempt.decision;
  kit.deps.metrics.signIns.inc({ factor: 'face', outcome: success ? 'success' : status === 401 || status === 422 ? 'failure' : 'error', reason: reason.toLowerCase() });
  if (d) kit.deps.metrics.faceVerification.observe(ms / 1000);
  await kit.audit(ctx, loaded, {
    type: 'signin.face',
    outcome: success ? 'success' : 'failure',
    reason: success ? null : reason,
    details: {
      method: 'passive',
      frames: attempt.frames ?? null,
      analysed: d?.analysed ?? 0,
      codes: d?.codes ?? [],
      similarity: loaded.user ? round(d?.similarity, 4) : null,
      liveness: round(d?.liveness, 3),
      durationMs: Math.round(ms),
      agent: summarizeAgent(ctx.get('user-agent')),
    },
  });
}

async function renderFace(ctx: Context, kit: InteractionKit, loaded: Loaded, message?: string): Promise<void> {
  const { verification } = kit.deps;
  const verdict = await verification.attempts.check('face', kit.subject(loaded), kit.origin(ctx, loaded));
  const mode = faceMode(loaded.target, loaded.client);
  const blocked = blockedMessage(verdict);
  await render(ctx, 'interaction/face', {
    mode,
    // The page draws its challenge with a POST once the camera runs: a page view changes nothing.
    challenge: null,
    title: 'Look at the camera',
    scripts: [mode === 'passive' ? '/static/face-capture.js' : '/static/face-challenge.js'],
    uid: loaded.uid,
    email: loaded.state.email,
    clientName: loaded.client.clientName ?? loaded.client.clientId,
    csrf: kit.csrfToken(loaded.uid),
    captureToken: mode === 'passive' ? await verification.captureTokens.issue(loaded.uid) : '',
    canFallBack: loaded.next.kind === 'factor' && loaded.next.canFallBack,
    // After a password or a passkey the face is the second step: the heading says so.
    secondStep: Boolean(loaded.state.done.pwd || loaded.state.done.passkey),
    status: blocked ?? message ?? null,
    retryAfter: verdict.allowed ? 0 : verdict.retryAfter,
    locked: !verdict.allowed && verdict.locked,
  });
}

export const faceStep: Step = {
  factor: 'face',
  render: renderFace,
  routes(router, kit) {
    const perIp = () => kit.deps.config.limits.perIpPerMinute;

    /**
     * Frames for verification: multipart `capture_token`, `_csrf` and 1–3 files `frame`. Answers `{ redirect }`, or
     * the JSON error shape with the next single-use `captureToken` whenever the page can try again.
     */
    router.post('/interaction/:uid/face', async (ctx) => {
      const started = performance.now();
      let loaded: Loaded | null = null;
      let attempt: Attempt;
      try {
        loaded = await kit.load(ctx);
        await kit.deps.rate.enforceIp(ctx, 'face-capture', perIp());
        await kit.deps.rate.enforce(`face-capture-ix:${loaded.uid}`, CAPTURES_PER_SIGN_IN, SIGN_IN_BUSY);
        attempt = await capture(ctx, kit, loaded);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        attempt = { reason: err.code, refusal: err };
      }
      // Flooding is not an attempt worth an audit row each; the rate limit exists to stop it cheaply.
      if (loaded && attempt.reason !== 'RATE_LIMITED') await record(ctx, kit, loaded, attempt, performance.now() - started);
      ctx.set('Cache-Control', 'no-store');
      if ('redirect' in attempt) {
        ctx.body = { redirect: attempt.redirect };
        return;
      }
      const { refusal } = attempt;
      // A refused token carries its own answer (see capture); every other refusal that can go on gets the next token.
      const next = loaded && !TERMINAL.has(refusal.code) && refusal.code !== 'CAPTURE_TOKEN_INVALID' ? { captureToken: await kit.deps.verification.captureTokens.issue(loaded.uid) } : {};
      ctx.status = refusal.status;
      ctx.set(refusal.headers);
      ctx.body = { ...errorBody(refusal, ctx.state.requestId), ...next };
    });

    challengeRoutes(router, kit, expectFaceStep);

    /** Live guidance: one frame, quality only (no matching, no liveness in the answer). */
    router.post('/interaction/:uid/face/check', async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const loaded = await kit.load(ctx);
      await kit.deps.rate.enforceIp(ctx, 'face-check', CHECK_RATE_FACTOR * perIp());
      await kit.deps.rate.enforce(`face-check-ix:${loaded.uid}`, CHECKS_PER_SIGN_IN, SIGN_IN_BUSY);
      const upload = await readFrames(ctx.req, 1);
      ctx.request.body = upload.fields;
      kit.verifyCsrf(ctx, loaded.uid);
      expectFaceStep(loaded);
      await inspectFrame(upload.frames[0]);
      const [analysis] = await withFaceErrors(() => kit.deps.verification.analyze(upload.frames));
      ctx.body = guidance(analysis.quality.issues);
    });
  },
};
