import type { Context } from 'koa';
import { emptyState } from '../sign-in/state.js';
import { addressSubject, type AttemptSubject } from '../verification/index.js';
import { PasskeyError } from '../passkeys/index.js';
import { HttpError } from '../web/errors.js';
import { render } from '../web/views.js';
import type { InteractionKit, Loaded } from './kit.js';
import { respondNext, type Step } from './step.js';

const NOT_EXPECTED = 'A passkey is not expected now. Reload the page.';
const waitMessage = (seconds: number) => `Too many failed passkey attempts. Wait ${seconds} seconds before trying again.`;

/**
 * Which passkey sign-in a request is: without an email from the identifier page (the key names the account), or
 * the passkey step of an identified sign-in (the key must be that account's).
 */
function modeOf(loaded: Loaded): 'usernameless' | 'identified' {
  if (loaded.details.prompt.name !== 'login') throw new HttpError(409, 'STEP_NOT_EXPECTED', NOT_EXPECTED);
  if (loaded.next.kind === 'identifier') return 'usernameless';
  if (loaded.next.kind === 'factor' && loaded.next.factor === 'passkey') return 'identified';
  throw new HttpError(409, 'STEP_NOT_EXPECTED', NOT_EXPECTED);
}

const binding = (loaded: Loaded) => `interaction:${loaded.uid}`;

/** Whose failures this attempt counts against before the key is known: the identified account, or the address. */
function subjectOf(ctx: Context, kit: InteractionKit, loaded: Loaded, mode: 'usernameless' | 'identified'): AttemptSubject {
  return mode === 'identified' ? kit.subject(loaded) : addressSubject(ctx.ip);
}

async function allowed(kit: InteractionKit, subject: AttemptSubject): Promise<void> {
  const verdict = await kit.deps.verification.check('passkey', subject);
  if (!verdict.allowed) throw new HttpError(429, 'PASSKEY_DELAYED', waitMessage(verdict.retryAfter), { 'Retry-After': String(verdict.retryAfter) }, { retryAfter: verdict.retryAfter });
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
 * factors verified so far. Failures count per account (and per address without an email) like other factors.
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
      const mode = modeOf(loaded);
      await allowed(kit, subjectOf(ctx, kit, loaded, mode));
      ctx.body = { options: await kit.deps.passkeys.authenticationOptions(binding(loaded)) };
    });

    /** The authenticator's answer (JSON `{ response }`); answers `{ redirect }` or the JSON error shape. */
    router.post('/interaction/:uid/passkey', async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const loaded = await kit.load(ctx);
      await kit.deps.rate.enforceIp(ctx, 'passkey', perIp());
      kit.verifyCsrf(ctx, loaded.uid);
      const mode = modeOf(loaded);
      const subject = subjectOf(ctx, kit, loaded, mode);
      await allowed(kit, subject);
      const { verification, passkeys, metrics } = kit.deps;
      const response = (ctx.request.body as Record<string, unknown> | undefined)?.response;
      const context = { clientId: loaded.client.clientId, requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') };
      let result;
      try {
        result = await passkeys.authenticate(binding(loaded), response, mode === 'usernameless' ? 'any' : { userId: loaded.user?.id ?? null }, context);
      } catch (err) {
        if (!(err instanceof PasskeyError)) throw err;
        metrics.signIns.inc({ factor: 'passkey', outcome: 'failure', reason: err.code.toLowerCase() });
        await verification.fail('passkey', subject);
        if (err.account && err.account !== subject.userId) await verification.fail('passkey', { userId: err.account, identifier: '' });
        throw new HttpError(err.status, err.code, mode === 'usernameless' && err.code === 'PASSKEY_UNKNOWN' ? 'This passkey is not registered here.' : err.message);
      }
      metrics.signIns.inc({ factor: 'passkey', outcome: 'success', reason: 'verified' });
      await verification.succeed('passkey', subject);
      await verification.succeed('passkey', { userId: result.user.id, identifier: '' });
      if (mode === 'identified') return respondNext(ctx, await kit.advance(ctx, loaded, { passkey: result.amr }));
      // The key named the account: the sign-in goes on as if its email had been typed, with the key verified.
      await kit.deps.states.save(loaded.uid, { ...emptyState(), email: result.user.email, accountId: result.user.id, done: { passkey: result.amr } });
      respondNext(ctx, `/interaction/${loaded.uid}`);
    });
  },
};
