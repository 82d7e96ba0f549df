import type { Context } from 'koa';
import { PasskeyError } from '../passkeys/index.js';
import { emptyState } from '../sign-in/state.js';
import type { AttemptStart } from '../verification/index.js';
import { HttpError } from '../web/errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { render } from '../web/views.js';
import type { InteractionKit, Loaded } from './kit.js';
import { respondNext, type Step } from './step.js';

const NOT_EXPECTED = 'A passkey is not expected now. Reload the page.';
const NOT_APPROVED =
  'This passkey was added with a face check alone. The admin console accepts it once another administrator approves it; a passkey added right after an enrollment link, or confirmed with an approved passkey, needs no approval.';
/** "45 seconds", "15 minutes": waits grow for unknown devices. */
const waitText = (seconds: number) => (seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`);

type Mode = 'usernameless' | 'identified';

/**
 * Which passkey sign-in a request is: without an email from the identifier page (the key names the account), or
 * the passkey step of an identified sign-in (the key must be that account's).
 */
function modeOf(loaded: Loaded): Mode {
  if (loaded.details.prompt.name !== 'login') throw new HttpError(409, 'STEP_NOT_EXPECTED', NOT_EXPECTED);
  if (loaded.next.kind === 'identifier') return 'usernameless';
  if (loaded.next.kind === 'factor' && loaded.next.factor === 'passkey') return 'identified';
  throw new HttpError(409, 'STEP_NOT_EXPECTED', NOT_EXPECTED);
}

const binding = (loaded: Loaded) => `interaction:${loaded.uid}`;

function delayed(start: Extract<AttemptStart, { allowed: false }>): HttpError {
  return new HttpError(429, 'PASSKEY_DELAYED', `Too many failed passkey attempts. Wait ${waitText(start.retryAfter)} before trying again.`, { 'Retry-After': String(start.retryAfter) }, { retryAfter: start.retryAfter });
}

async function renderPasskey(ctx: Context, kit: InteractionKit, loaded: Loaded, message?: string): Promise<void> {
  await render(ctx, 'interaction/passkey', {
    title: 'Use your passkey',
    scripts: ['/static/passkey-signin.js'],
    uid: loaded.uid,
    email: loaded.state.email,
    clientName: loaded.client.clientName ?? loaded.client.clientId,
    csrf: kit.csrfToken(loaded.uid),
    message,
  });
}

/**
 * The passkey factor (WebAuthn, user verification required). Both kinds of passkey sign-in end here: one without
 * an email sets the account the key belongs to and goes on to the face step; an identified one adds the key to the
 * factors verified so far. Each answer is a counted attempt (per account and origin, and per client address); one
 * without an email is counted per address until its key names the account, which then counts it too.
 */
export const passkeyStep: Step = {
  factor: 'passkey',
  render: renderPasskey,
  routes(router, kit) {
    const perIp = () => kit.deps.config.limits.perIpPerMinute;

    /** Options for navigator.credentials.get, with a single-use challenge bound to this sign-in. */
    router.post('/interaction/:uid/passkey/options', async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const loaded = await kit.load(ctx);
      await kit.deps.rate.enforceIp(ctx, 'passkey', perIp());
      kit.verifyCsrf(ctx, loaded.uid);
      if (modeOf(loaded) === 'identified') {
        const verdict = await kit.deps.verification.attempts.check('passkey', kit.subject(loaded), kit.origin(ctx, loaded));
        if (!verdict.allowed) throw delayed(verdict);
      }
      ctx.body = { options: await kit.deps.passkeys.authenticationOptions(binding(loaded)) };
    });

    /** The authenticator's answer (JSON `{ response }`); answers `{ redirect }` or the JSON error shape. */
    router.post('/interaction/:uid/passkey', async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const loaded = await kit.load(ctx);
      await kit.deps.rate.enforceIp(ctx, 'passkey', perIp());
      kit.verifyCsrf(ctx, loaded.uid);
      const mode = modeOf(loaded);
      const { verification, passkeys, metrics } = kit.deps;
      const { attempts } = verification;
      const ip = rateKeyForIp(ctx.ip);
      const start = mode === 'identified' ? await attempts.begin('passkey', kit.subject(loaded), kit.origin(ctx, loaded), ip) : await attempts.beginByAddress(ip);
      if (!start.allowed) throw delayed(start);
      const response = (ctx.request.body as Record<string, unknown> | undefined)?.response;
      const context = { clientId: loaded.client.clientId, requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') };
      let result;
      try {
        result = await passkeys.authenticate(binding(loaded), response, mode === 'usernameless' ? 'any' : { userId: loaded.user?.id ?? null }, context);
      } catch (err) {
        if (!(err instanceof PasskeyError)) {
          await start.attempt.voided();
          throw err;
        }
        metrics.signIns.inc({ factor: 'passkey', outcome: 'failure', reason: err.code.toLowerCase() });
        await start.attempt.failed();
        if (mode === 'usernameless' && err.account) await attempts.attribute('passkey', err.account, kit.originFor(ctx, err.account), 'failed');
        throw new HttpError(err.status, err.code, mode === 'usernameless' && err.code === 'PASSKEY_UNKNOWN' ? 'This passkey is not registered here.' : err.message);
      }
      metrics.signIns.inc({ factor: 'passkey', outcome: 'success', reason: 'verified' });
      await start.attempt.succeeded();
      if (!result.passkey.adminReady && kit.deps.approvedPasskeysOnly(loaded.client.clientId)) {
        // A key bound by a face check alone would let one pass of the face reach "passkey + face" (README).
        await ctx.state.audit({ type: 'signin.passkey', outcome: 'failure', reason: 'PASSKEY_NOT_APPROVED', userId: result.user.id, clientId: loaded.client.clientId, details: { passkeyId: result.passkey.id } });
        throw new HttpError(403, 'PASSKEY_NOT_APPROVED', NOT_APPROVED);
      }
      if (mode === 'identified') return respondNext(ctx, await kit.advance(ctx, loaded, { passkey: result.amr }));
      // The key named the account: a sign-in that account's own limits hold back does not go on.
      const owner = await attempts.attribute('passkey', result.user.id, kit.originFor(ctx, result.user.id), 'succeeded');
      if (!owner.allowed) throw delayed(owner);
      // The sign-in goes on as if its email had been typed, with the key verified.
      await kit.deps.states.save(loaded.uid, { ...emptyState(), email: result.user.email, accountId: result.user.id, done: { passkey: result.amr } });
      respondNext(ctx, `/interaction/${loaded.uid}`);
    });
  },
};
