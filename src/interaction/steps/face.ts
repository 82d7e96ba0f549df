import type { Context } from 'koa';
import { type Analysis, FaceError, QUALITY_MESSAGES } from '../../face/index.js';
import { HttpError } from '../../web/errors.js';
import { enforceIpRate } from '../../web/rate-limit.js';
import { summarizeAgent } from '../../web/device.js';
import { render } from '../../web/views.js';
import { CaptureTokens } from '../face/capture-token.js';
import { type Decision, decide } from '../face/decide.js';
import { fingerprint } from '../face/fingerprint.js';
import { inspectFrame, readFrames } from '../face/frames.js';
import { guidance } from '../face/guidance.js';
import { ReplayGuard } from '../face/replay.js';
import type { InteractionKit, Loaded } from '../kit.js';
import type { LimitPolicy } from '../limits.js';
import { FACE_LOCKED_MESSAGE } from '../plan.js';
import type { Step } from '../step.js';

const MAX_CAPTURE_FRAMES = 3;
/** Live guidance polls about every 0.7 s, so it gets this many times the per-IP budget of captures. */
const CHECK_RATE_FACTOR = 3;

const MESSAGES = {
  NO_MATCH: 'We could not verify that this is you. Check that this is your account, look straight at the camera and try again.',
  LIVENESS_FAILED: 'We could not confirm that a live person is in front of the camera. Use the camera directly (not a photo or a screen), in good light, and try again.',
  FRAME_REPLAYED: 'This picture was already used to sign in. Look at the camera and take a new one.',
  CAPTURE_TOKEN_INVALID: 'This capture has expired or was already used. Try again.',
  STEP_NOT_EXPECTED: 'Face verification is not expected now. Reload the page.',
  OVERLOADED: 'The server is busy. Try again in a moment.',
  ENGINE_UNAVAILABLE: 'Face verification is unavailable right now. Try again later.',
} as const;

const waitMessage = (seconds: number) => `Too many failed attempts. Wait ${seconds} seconds before trying again.`;

/** After these the page cannot go on: it has to reload, or the sign-in has to start again. */
const TERMINAL = new Set(['INTERACTION_EXPIRED', 'INTERACTION_MISMATCH', 'UNKNOWN_CLIENT', 'CSRF_TOKEN_INVALID', 'STEP_NOT_EXPECTED', 'FACE_LOCKED']);

type CaptureReply =
  | { status: 'ok'; redirect: string }
  | { status: 'retry' | 'error'; code: string; message: string; captureToken?: string; retryAfter?: number; redirect?: string };

interface Attempt {
  http: number;
  reply: CaptureReply;
  /** For the audit trail and metrics. */
  reason: string;
  decision?: Decision;
  frames?: number;
}

function expectFaceStep(loaded: Loaded): void {
  if (loaded.next.kind !== 'factor' || loaded.next.factor !== 'face') throw new HttpError(409, 'STEP_NOT_EXPECTED', MESSAGES.STEP_NOT_EXPECTED);
}

/** Engine errors as page errors; the pictures' problems reuse the engine's wording. */
async function analyzeAll(kit: InteractionKit, frames: Buffer[]): Promise<Analysis[]> {
  try {
    return await Promise.all(frames.map((f) => kit.deps.engine.analyze(f, 'verify')));
  } catch (err) {
    if (!(err instanceof FaceError)) throw err;
    const message = err.code === 'UNSUPPORTED_IMAGE' || err.code === 'IMAGE_TOO_LARGE' ? QUALITY_MESSAGES[err.code] : err.code === 'OVERLOADED' ? MESSAGES.OVERLOADED : MESSAGES.ENGINE_UNAVAILABLE;
    throw new HttpError(err.status, err.code, message, err.retryAfter ? { 'Retry-After': String(err.retryAfter) } : {});
  }
}

/**
 * Analyses frames in rounds as wide as the worker pool and stops at the first round with a verified frame: an
 * honest capture usually verifies on its first frames, and a refused one is still judged on all of them.
 */
async function verifyFrames(kit: InteractionKit, frames: Buffer[], enrolled: Promise<Float32Array[]>): Promise<Decision> {
  const round = Math.max(1, kit.deps.engine.stats().poolSize);
  const analyses: Analysis[] = [];
  for (let i = 0; ; i += round) {
    const [batch, templates] = await Promise.all([analyzeAll(kit, frames.slice(i, i + round)), enrolled]);
    analyses.push(...batch);
    const decision = decide(analyses, (embedding) => kit.deps.engine.compare(embedding, templates));
    if (decision.outcome === 'verified' || i + round >= frames.length) return decision;
  }
}

/** Disables the face factor of a known account durably; unknown identifiers stay locked by their counter alone. */
async function lockOut(kit: InteractionKit, loaded: Loaded): Promise<HttpError> {
  if (loaded.user) await kit.deps.users.lockFace(loaded.user.id);
  return new HttpError(403, 'FACE_LOCKED', FACE_LOCKED_MESSAGE);
}

/** A refused verification counts towards the NIST delay and lockout; from the delay on, the reply says how long to wait. */
async function refuse(kit: InteractionKit, loaded: Loaded, key: string, policy: LimitPolicy, code: 'NO_MATCH' | 'LIVENESS_FAILED' | 'FRAME_REPLAYED', extra: Partial<Attempt>): Promise<Attempt> {
  const { failures, locked } = await kit.limiters.face.fail(key, policy);
  if (locked) return { ...extra, ...fromError(await lockOut(kit, loaded), loaded) };
  const delayed = failures >= policy.failuresBeforeDelay;
  const message = delayed ? `${MESSAGES[code]} ${waitMessage(policy.delaySeconds)}` : MESSAGES[code];
  return { ...extra, http: 401, reason: code, reply: { status: 'retry', code, message, ...(delayed ? { retryAfter: policy.delaySeconds } : {}) } };
}

async function capture(ctx: Context, kit: InteractionKit, loaded: Loaded): Promise<Attempt> {
  const { templates, engine, kv } = kit.deps;
  const upload = await readFrames(ctx.req, MAX_CAPTURE_FRAMES);
  ctx.request.body = upload.fields;
  kit.verifyCsrf(ctx, loaded.uid);
  expectFaceStep(loaded);
  if (!(await new CaptureTokens(kv).consume(upload.fields.capture_token ?? '', loaded.uid))) {
    throw new HttpError(400, 'CAPTURE_TOKEN_INVALID', MESSAGES.CAPTURE_TOKEN_INVALID);
  }
  await Promise.all(upload.frames.map(inspectFrame));
  const key = kit.attemptKey(loaded);
  const policy = await kit.limitPolicy();
  const verdict = await kit.limiters.face.check(key, policy);
  if (!verdict.allowed) {
    throw verdict.locked ? await lockOut(kit, loaded) : new HttpError(429, 'FACE_DELAYED', waitMessage(verdict.retryAfter), { 'Retry-After': String(verdict.retryAfter) });
  }

  // Analysis, replay screening and template decryption are independent: run them together.
  const enrolled = loaded.user ? templates.forUser(loaded.user.id, engine.modelId).then((ts) => ts.map((t) => t.embedding)) : Promise.resolve([]);
  const [decision, replayed] = await Promise.all([
    verifyFrames(kit, upload.frames, enrolled),
    Promise.all(upload.frames.map(fingerprint)).then((f) => new ReplayGuard(kv).screen(key, loaded.uid, f)),
  ]);
  const frames = upload.frames.length;
  if (replayed) return refuse(kit, loaded, key, policy, 'FRAME_REPLAYED', { decision, frames });

  if (decision.outcome === 'quality') {
    // Not a verification attempt: nothing was compared, so it does not count towards the limits.
    const code = decision.issues[0]?.code ?? 'FACE_NOT_FOUND';
    const message = decision.issues.map((i) => i.message).join(' ') || QUALITY_MESSAGES.FACE_NOT_FOUND;
    return { http: 422, reason: code, decision, frames, reply: { status: 'retry', code, message } };
  }
  if (decision.outcome === 'verified') {
    await kit.limiters.face.reset(key);
    const redirect = await kit.advance(ctx, loaded, { face: true, liveness: true });
    return { http: 200, reason: 'VERIFIED', decision, frames, reply: { status: 'ok', redirect } };
  }
  return refuse(kit, loaded, key, policy, decision.outcome === 'liveness_failed' ? 'LIVENESS_FAILED' : 'NO_MATCH', { decision, frames });
}

/** A refused request: the page shows the message; a lockout sends it back to the sign-in, which now offers less. */
function fromError(err: unknown, loaded: Loaded | null): Attempt {
  if (!(err instanceof HttpError)) throw err;
  const retryAfter = Number(err.headers['Retry-After']) || undefined;
  return {
    http: err.status,
    reason: err.code,
    reply: {
      status: 'error',
      code: err.code,
      message: err.message,
      ...(retryAfter ? { retryAfter } : {}),
      ...(err.code === 'FACE_LOCKED' && loaded ? { redirect: `/interaction/${loaded.uid}` } : {}),
    },
  };
}

const round = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** One audit event per attempt (scores stay here and in metrics; the page and the app never see them). */
async function record(ctx: Context, kit: InteractionKit, loaded: Loaded, attempt: Attempt, ms: number): Promise<void> {
  const success = attempt.reply.status === 'ok';
  const unknown = !loaded.user && attempt.reason === 'NO_MATCH';
  const reason = unknown ? 'UNKNOWN_ACCOUNT' : attempt.reason;
  const d = attempt.decision;
  kit.deps.metrics.signIns.inc({ factor: 'face', outcome: success ? 'success' : attempt.http === 401 || attempt.http === 422 ? 'failure' : 'error', reason: reason.toLowerCase() });
  if (d) kit.deps.metrics.faceVerification.observe(ms / 1000);
  await kit.audit(ctx, loaded, {
    type: 'signin.face',
    outcome: success ? 'success' : 'failure',
    reason: success ? null : reason,
    details: {
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

function reply(ctx: Context, attempt: Attempt): void {
  ctx.status = attempt.http;
  if (attempt.reply.status !== 'ok' && attempt.reply.retryAfter) ctx.set('Retry-After', String(attempt.reply.retryAfter));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = attempt.reply;
}

async function renderFace(ctx: Context, kit: InteractionKit, loaded: Loaded, message?: string): Promise<void> {
  const verdict = await kit.limiters.face.check(kit.attemptKey(loaded), await kit.limitPolicy());
  const blocked = verdict.allowed ? null : verdict.locked ? FACE_LOCKED_MESSAGE : waitMessage(verdict.retryAfter);
  await render(ctx, 'interaction/face', {
    title: 'Look at the camera',
    scripts: ['/static/face-capture.js'],
    uid: loaded.uid,
    email: loaded.state.email,
    clientName: loaded.client.clientName ?? loaded.client.clientId,
    csrf: kit.csrfToken(loaded.uid),
    captureToken: await new CaptureTokens(kit.deps.kv).issue(loaded.uid),
    canFallBack: loaded.next.kind === 'factor' && loaded.next.canFallBack,
    withPassword: Boolean(loaded.state.done.pwd),
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

    /** Frames for verification: multipart `capture_token`, `_csrf` and 1–3 files `frame`; answers JSON. */
    router.post('/interaction/:uid/face', async (ctx) => {
      const started = performance.now();
      let loaded: Loaded | null = null;
      let attempt: Attempt;
      try {
        loaded = await kit.load(ctx);
        await enforceIpRate(ctx, kit.deps.kv, 'face-capture', perIp());
        attempt = await capture(ctx, kit, loaded);
      } catch (err) {
        attempt = fromError(err, loaded);
      }
      // Flooding is not an attempt worth an audit row each; the rate limit exists to stop it cheaply.
      if (loaded && attempt.reason !== 'RATE_LIMITED') await record(ctx, kit, loaded, attempt, performance.now() - started);
      // Every refusal the page can go on from carries the next single-use token.
      if (loaded && attempt.reply.status !== 'ok' && !TERMINAL.has(attempt.reply.code)) attempt.reply.captureToken = await new CaptureTokens(kit.deps.kv).issue(loaded.uid);
      reply(ctx, attempt);
    });

    /** Live guidance: one frame, quality only (no matching, no liveness in the answer). */
    router.post('/interaction/:uid/face/check', async (ctx) => {
      try {
        const loaded = await kit.load(ctx);
        await enforceIpRate(ctx, kit.deps.kv, 'face-check', CHECK_RATE_FACTOR * perIp());
        const upload = await readFrames(ctx.req, 1);
        ctx.request.body = upload.fields;
        kit.verifyCsrf(ctx, loaded.uid);
        expectFaceStep(loaded);
        await inspectFrame(upload.frames[0]);
        const [analysis] = await analyzeAll(kit, upload.frames);
        ctx.body = { status: 'ok', ...guidance(analysis.quality.issues) };
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { status: 'error', code: err.code, message: err.message };
      }
      ctx.set('Cache-Control', 'no-store');
    });
  },
};
