import type Router from '@koa/router';
import type { Context } from 'koa';
import { requireFresh } from '../account/access.js';
import { accountOf, type AccountDeps } from '../account/deps.js';
import { faceCheck } from '../account/face-check.js';
import { formField, page } from '../account/page.js';
import { readPhotos } from '../enrollment/http.js';
import { delayed } from '../interaction/face-refusals.js';
import { publicProgress, replyRefused } from '../interaction/face-challenge.js';
import { deviceOrigin } from '../web/device-cookie.js';
import { HttpError } from '../web/errors.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { ProofingRefusal } from './flow.js';
import { ProofingError } from './service.js';

const PAGE = '/account/proofing';
const DOCUMENTS_PER_MINUTE = 6;

const DONE: Record<string, string> = {
  proofed: 'Your identity is confirmed. Apps you allow can now receive your verified name, date of birth and nationality.',
  withdrawn: 'Consent withdrawn: your identity check and everything kept about your document were deleted, and no app receives them any more.',
};

/** A challenge that ran out before a single movement: what a photo or a screen held to the camera does. */
const STILL_CODES = new Set(['CHALLENGE_EXPIRED', 'TARGET_NOT_REACHED', 'NOT_THREE_DIMENSIONAL']);
const STILL_FACE = {
  code: 'STILL_FACE',
  message: 'The face in front of the camera did not move as asked. An identity check needs you, live: a photo or a screen cannot pass it. Start again and follow each instruction as it appears.',
};

/** Where the person returns after proofing: a sign-in waiting for it (only this server's interaction pages). */
const nextOf = (ctx: Context): string | null => {
  const next = ctx.query.next;
  return typeof next === 'string' && /^\/interaction\/[\w-]+$/.test(next) ? next : null;
};
const withNext = (path: string, next: string | null) => (next ? `${path}${path.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}` : path);

const toHttp = (err: ProofingRefusal | ProofingError) => new HttpError(err instanceof ProofingRefusal ? err.status : 409, err.code, err.message);

/**
 * Identity proofing on the account page: the proofing consent, a photo of the document's data page, then the
 * head-movement challenge (surface 'proofing'), whose deciding frame must also match the document's portrait. The
 * checks are the library's (flow.ts); this surface runs them in order, counts failed face comparisons as face
 * attempts, and audits every step.
 */
export function proofingRoutes(router: Router, deps: AccountDeps): void {
  const enabled = async () => (await deps.settings.get()).proofingEnabled;
  const requireEnabled = async () => {
    if (!(await enabled())) throw new HttpError(404, 'PROOFING_DISABLED', 'Identity checks are not offered on this server.');
  };
  const originOf = (ctx: Context, userId: string) => deviceOrigin(ctx, deps.verification.devices, userId);

  const check = faceCheck(router, deps, {
    page: PAGE,
    name: 'proofing',
    surface: 'proofing',
    faceSession: false,
    failure: { type: 'proofing.challenge', details: {} },
    explain: (outcome) => (STILL_CODES.has(outcome.code) && outcome.progress.completed.length === 0 ? STILL_FACE : null),
    async passed(ctx, user, { frame, progress, total }) {
      try {
        await withFaceErrors(() => deps.proofingFlow.complete(user.id, frame));
      } catch (err) {
        if (!(err instanceof ProofingRefusal || err instanceof ProofingError)) throw err;
        if (err instanceof ProofingRefusal && err.faceFailure) await deps.verification.attempts.attribute('face', user.id, originOf(ctx, user.id), 'failed');
        await ctx.state.audit({ type: 'proofing.record', outcome: 'failure', reason: err.code, userId: user.id, actorId: user.id });
        replyRefused(ctx, toHttp(err), { ...progress, status: 'failed' }, total);
        return;
      }
      ctx.body = { progress: publicProgress(progress, total), redirect: withNext(`${PAGE}?done=proofed`, nextOf(ctx)) };
    },
  });

  async function render(ctx: Context, message: string | null = null, status = 200) {
    const { user } = accountOf(ctx);
    const on = await enabled();
    // The record and the withdrawal stay reachable when the flow is turned off: consent can always be withdrawn.
    const [consent, record, held, hasFace] = await Promise.all([
      deps.proofing.consent(user.id),
      deps.proofing.status(user.id),
      on ? deps.proofingFlow.held(user.id) : null,
      on ? deps.verification.hasFace(user.id) : false,
    ]);
    const done = typeof ctx.query.done === 'string' ? (DONE[ctx.query.done] ?? null) : null;
    // The camera check comes once a document is held; "check again" starts over with a new photo.
    const step = !on ? 'disabled' : !consent ? 'consent' : !hasFace ? 'no-face' : held && ctx.query.restart === undefined ? 'challenge' : record?.state === 'valid' && ctx.query.again === undefined ? 'done' : 'document';
    await page(
      ctx,
      'proofing',
      {
        title: 'Confirm your identity',
        scripts: step === 'challenge' ? ['/static/face-challenge.js'] : step === 'document' ? ['/static/proofing-document.js'] : [],
        step,
        consent,
        consentText: deps.proofing.consentText,
        record,
        held,
        done,
        message,
        next: nextOf(ctx),
        withNext: (path: string) => withNext(path, nextOf(ctx)),
        ...(step === 'challenge' ? await check.page(ctx, user) : { challenge: null, status: null, retryAfter: 0, locked: false }),
      },
      status,
    );
  }

  router.get('/proofing', (ctx) => render(ctx));

  router.post('/proofing/consent', async (ctx) => {
    await requireEnabled();
    const { user } = accountOf(ctx);
    if (formField(ctx, 'confirm') !== 'yes') return render(ctx, 'Tick the box to agree, or go back to your account.', 400);
    await deps.proofing.giveConsent(user.id, contextOf(ctx));
    ctx.redirect(withNext(PAGE, nextOf(ctx)));
  });

  router.post('/proofing/withdraw', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { next: PAGE });
    if (formField(ctx, 'confirm') !== 'yes') return render(ctx, 'Tick the box to confirm the withdrawal.', 400);
    await deps.proofingFlow.discard(user.id);
    await deps.proofing.withdrawConsent(user.id, contextOf(ctx));
    ctx.redirect(`${PAGE}?done=withdrawn`);
  });

  router.post('/proofing/document', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    await requireEnabled();
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { next: withNext(PAGE, nextOf(ctx)) });
    await deps.rate.enforce(`proofing-document:${user.id}`, DOCUMENTS_PER_MINUTE, 'Too many documents in a minute. Wait a minute and try again.');
    if (!(await deps.proofing.consent(user.id))) throw new HttpError(409, 'CONSENT_REQUIRED', 'Agree to the identity-check notice first.');
    // A person whose face attempts are delayed or locked waits here too: the portrait comparison is a face attempt.
    const origin = originOf(ctx, user.id);
    const verdict = await deps.verification.attempts.check('face', { userId: user.id, identifier: user.email }, origin);
    if (!verdict.allowed) throw delayed(verdict.locked, verdict.retryAfter);
    // The data page first; a card's back (where its MRZ is) second.
    const { photos } = await readPhotos(ctx, { maxBytes: deps.config.face.maxUploadBytes, maxFiles: 2 });
    try {
      const held = await withFaceErrors(() => deps.proofingFlow.examineDocument(user.id, photos[0]!, photos[1]));
      await ctx.state.audit({ type: 'proofing.document', outcome: 'success', userId: user.id, actorId: user.id, details: { documentType: held.type, issuingCountry: held.issuer } });
      ctx.body = { redirect: withNext(PAGE, nextOf(ctx)) };
    } catch (err) {
      if (!(err instanceof ProofingRefusal)) throw err;
      if (err.faceFailure) await deps.verification.attempts.attribute('face', user.id, origin, 'failed');
      await ctx.state.audit({ type: 'proofing.document', outcome: 'failure', reason: err.code, userId: user.id, actorId: user.id });
      throw toHttp(err);
    }
  });
}

const contextOf = (ctx: Context) => ({ requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') });
