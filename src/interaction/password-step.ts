import type { Context } from 'koa';
import { verifyPassword } from '../accounts/users.js';
import { HttpError } from '../web/errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { render } from '../web/views.js';
import type { InteractionKit, Loaded } from './kit.js';
import { respondNext, type Step } from './step.js';

async function renderPassword(ctx: Context, kit: InteractionKit, loaded: Loaded, message?: string, status = 200) {
  await render(
    ctx,
    'interaction/password',
    {
      title: 'Enter your password',
      uid: loaded.uid,
      email: loaded.state.email,
      clientName: loaded.client.clientName ?? loaded.client.clientId,
      csrf: kit.csrfToken(loaded.uid),
      message,
    },
    status,
  );
}

/** "45 seconds", "15 minutes": waits grow for unknown devices. */
const waitText = (seconds: number) => (seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`);

export const passwordStep: Step = {
  factor: 'pwd',
  render: renderPassword,
  routes(router, kit) {
    // Per client address too: a password post costs an argon2 verification whatever the account.
    const perIp = kit.deps.rate.byIp('password', () => kit.deps.config.limits.perIpPerMinute);
    router.post('/interaction/:uid/password', perIp, async (ctx) => {
      const loaded = await kit.load(ctx);
      kit.verifyCsrf(ctx, loaded.uid);
      if (loaded.next.kind !== 'factor' || loaded.next.factor !== 'pwd') throw new HttpError(409, 'STEP_NOT_EXPECTED', 'A password is not expected now. Reload the page.');
      const { verification } = kit.deps;
      const subject = kit.subject(loaded);
      // Reserved before the hash is checked, so a burst of parallel guesses cannot overtake the count.
      const start = await verification.attempts.begin('pwd', subject, kit.origin(ctx, loaded), rateKeyForIp(ctx.ip));
      if (!start.allowed) {
        ctx.set('Retry-After', String(start.retryAfter));
        return renderPassword(ctx, kit, loaded, `Too many failed attempts. Wait ${waitText(start.retryAfter)} before trying again.`, 429);
      }
      const password = String((ctx.request.body as Record<string, unknown>)?.password ?? '');
      // Unknown accounts are checked against a decoy hash so they take as long and fail the same way.
      const ok = await verifyPassword(loaded.user?.passwordHash ?? null, password);
      kit.deps.metrics.signIns.inc({ factor: 'pwd', outcome: ok ? 'success' : 'failure', reason: ok ? 'verified' : 'mismatch' });
      await kit.audit(ctx, loaded, { type: 'signin.password', outcome: ok ? 'success' : 'failure', reason: ok ? null : 'PASSWORD_MISMATCH' });
      if (!ok) {
        await start.attempt.failed();
        return renderPassword(ctx, kit, loaded, 'That email and password do not match.', 401);
      }
      await start.attempt.succeeded();
      respondNext(ctx, await kit.advance(ctx, loaded, { pwd: true }));
    });
  },
};
