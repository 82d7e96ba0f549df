import Router from '@koa/router';
import type { Context } from 'koa';
import { normalizeEmail } from '../accounts/users.js';
import type { Factor } from '../oidc/acr.js';
import { HttpError } from '../web/errors.js';
import { render } from '../web/views.js';
import type { InteractionKit, Loaded } from './kit.js';
import { emptyState } from '../sign-in/state.js';
import type { Step } from './step.js';

const SCOPE_LABELS: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'Your name',
  email: 'Your email address',
  offline_access: 'Stay signed in to the app (refresh tokens)',
};

const VERIFIED_CLAIMS = 'verified_claims';

function body(ctx: Context): Record<string, unknown> {
  return (ctx.request.body as Record<string, unknown>) ?? {};
}

/** Identifier-first sign-in: identifier → the factors the policy asks for → consent. */
export function createInteractionRouter(kit: InteractionKit, steps: Step[]): Router {
  const router = new Router();
  const byFactor = new Map<Factor, Step>(steps.map((s) => [s.factor, s]));
  const { provider, states } = kit.deps;
  const perIp = kit.deps.rate.byIp('interaction', () => kit.deps.config.limits.perIpPerMinute);

  async function renderIdentifier(ctx: Context, loaded: Loaded, message?: string, status = 200) {
    await render(
      ctx,
      'interaction/identifier',
      {
        title: 'Sign in',
        uid: loaded.uid,
        clientName: loaded.client.clientName ?? loaded.client.clientId,
        loginHint: loaded.details.params.login_hint ?? loaded.state.email ?? '',
        csrf: kit.csrfToken(loaded.uid),
        message,
      },
      status,
    );
  }

  /** The app requires a confirmed identity the account does not hold: the proofing flow first, then back here. */
  async function renderProofingRequired(ctx: Context, loaded: Loaded, message?: string, status = 200) {
    await render(
      ctx,
      'interaction/proofing-required',
      {
        title: 'Confirm your identity',
        uid: loaded.uid,
        clientName: loaded.client.clientName ?? loaded.client.clientId,
        offered: await kit.deps.proofing.offered(),
        proofingUrl: `/account/proofing?next=${encodeURIComponent(`/interaction/${loaded.uid}`)}`,
        message,
        csrf: kit.csrfToken(loaded.uid),
      },
      status,
    );
  }

  const proofingRequired = (loaded: Loaded) => loaded.details.prompt.reasons.includes('proofing_required');

  async function renderConsent(ctx: Context, loaded: Loaded) {
    if (proofingRequired(loaded)) return renderProofingRequired(ctx, loaded);
    const details = loaded.details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const scopes = (details.missingOIDCScope ?? []).map((s) => SCOPE_LABELS[s] ?? s);
    const asksVerified = details.missingOIDCClaims?.includes(VERIFIED_CLAIMS) ?? false;
    const accountId = loaded.details.session?.accountId;
    await render(ctx, 'interaction/consent', {
      title: 'Allow access',
      uid: loaded.uid,
      clientName: loaded.client.clientName ?? loaded.client.clientId,
      scopes,
      // null: not asked; false: asked, but the account holds no identity proofing in force.
      verifiedIdentity: asksVerified ? Boolean(accountId && (await kit.deps.proofing.isValid(accountId))) : null,
      csrf: kit.csrfToken(loaded.uid),
    });
  }

  async function show(ctx: Context, loaded: Loaded, message?: string) {
    if (loaded.details.prompt.name === 'consent') return renderConsent(ctx, loaded);
    const next = loaded.next;
    if (next.kind === 'identifier') return renderIdentifier(ctx, loaded, message);
    if (next.kind === 'unavailable') {
      return render(ctx, 'interaction/unavailable', { title: 'Sign-in unavailable', uid: loaded.uid, message: next.message, csrf: kit.csrfToken(loaded.uid) }, 403);
    }
    if (next.kind === 'finish') {
      // Factors are only ever completed by the POST that verified the last one, which also finishes the login; a
      // page view that finds them complete (a race with that POST) starts the sign-in over instead of finishing it.
      await states.clear(loaded.uid);
      return renderIdentifier(ctx, loaded, message);
    }
    const step = byFactor.get(next.factor);
    if (!step) throw new HttpError(501, 'FACTOR_UNAVAILABLE', `This server cannot verify the "${next.factor}" factor.`);
    return step.render(ctx, kit, loaded, message);
  }

  router.get('/interaction/:uid', async (ctx) => {
    await show(ctx, await kit.load(ctx));
  });

  router.post('/interaction/:uid/identify', perIp, async (ctx) => {
    const loaded = await kit.load(ctx);
    kit.verifyCsrf(ctx, loaded.uid);
    let email: string;
    try {
      email = normalizeEmail(String(body(ctx).email ?? ''));
    } catch {
      return renderIdentifier(ctx, loaded, 'Enter a valid email address.', 400);
    }
    // Unknown identifiers get the same next page as known ones: nothing here tells which accounts exist.
    const user = await kit.deps.users.byEmail(email);
    await states.save(loaded.uid, { ...emptyState(), email, accountId: user?.id ?? null });
    ctx.redirect(`/interaction/${loaded.uid}`);
  });

  router.post('/interaction/:uid/restart', async (ctx) => {
    const loaded = await kit.load(ctx);
    kit.verifyCsrf(ctx, loaded.uid);
    await states.clear(loaded.uid);
    ctx.redirect(`/interaction/${loaded.uid}`);
  });

  /** The non-biometric alternative, where the client's policy allows a password-only sign-in. */
  router.post('/interaction/:uid/use-password', async (ctx) => {
    const loaded = await kit.load(ctx);
    kit.verifyCsrf(ctx, loaded.uid);
    if (loaded.next.kind !== 'factor' || !loaded.next.canFallBack) {
      throw new HttpError(403, 'PASSWORD_NOT_ALLOWED', 'This app requires face verification; a password alone is not enough.');
    }
    await states.save(loaded.uid, { ...loaded.state, passwordFallback: true });
    ctx.redirect(`/interaction/${loaded.uid}`);
  });

  router.post('/interaction/:uid/consent', async (ctx) => {
    const loaded = await kit.load(ctx);
    kit.verifyCsrf(ctx, loaded.uid);
    const { details } = loaded;
    if (details.prompt.name !== 'consent') throw new HttpError(409, 'STEP_NOT_EXPECTED', 'There is nothing to approve now.');
    const accountId = details.session?.accountId;
    if (!accountId) throw new HttpError(400, 'INTERACTION_EXPIRED', 'This sign-in has expired. Start again from the app.');
    // "Continue" after the proofing flow: nothing is approved here. Until the identity is confirmed the page stays;
    // once it is, the provider evaluates the prompts again and asks for the app's approval on its own page.
    if (proofingRequired(loaded)) {
      if (!(await kit.deps.proofing.isValid(accountId))) {
        await ctx.state.audit({ type: 'proofing.required', outcome: 'failure', reason: 'PROOFING_REQUIRED', userId: accountId, clientId: loaded.client.clientId });
        return renderProofingRequired(ctx, loaded, 'Your identity is not confirmed yet. Confirm it first, then continue.', 403);
      }
      return ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, {}, { mergeWithLastSubmission: true }));
    }
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: loaded.client.clientId });
    if (!grant) throw new HttpError(400, 'INTERACTION_EXPIRED', 'This sign-in has expired. Start again from the app.');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    const claims = missing.missingOIDCClaims ?? [];
    // Verified identity is released only by its own tick; otherwise it is rejected for this grant (and asked again
    // at the next sign-in), so the app's token carries none.
    const releaseVerified = claims.includes(VERIFIED_CLAIMS) && body(ctx).share_verified_claims === 'yes' && (await kit.deps.proofing.isValid(accountId));
    const granted = claims.filter((c) => c !== VERIFIED_CLAIMS || releaseVerified);
    if (granted.length) grant.addOIDCClaims(granted);
    if (claims.includes(VERIFIED_CLAIMS) && !releaseVerified) grant.rejectOIDCClaims([VERIFIED_CLAIMS]);
    const grantId = await grant.save();
    await ctx.state.audit({
      type: 'consent.grant',
      outcome: 'success',
      userId: accountId,
      clientId: loaded.client.clientId,
      details: { scopes: missing.missingOIDCScope ?? [], ...(claims.includes(VERIFIED_CLAIMS) ? { verifiedClaims: releaseVerified ? 'released' : 'withheld' } : {}) },
    });
    // Remembered across sessions so the app is not approved again at every sign-in.
    await kit.deps.approvals.remember(accountId, loaded.client.clientId, [...(grant.getOIDCScope()?.split(' ') ?? [])], releaseVerified ? [VERIFIED_CLAIMS] : []);
    const redirect = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    ctx.redirect(redirect);
  });

  router.get('/interaction/:uid/abort', async (ctx) => {
    const loaded = await kit.load(ctx);
    await states.clear(loaded.uid);
    const redirect = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
    ctx.redirect(redirect);
  });

  for (const step of steps) step.routes(router, kit);
  return router;
}
