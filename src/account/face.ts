import type Router from '@koa/router';
import type { Context } from 'koa';
import { needsConfirmation } from '../accounts/factors.js';
import { requireFresh } from './access.js';
import { accountOf, type AccountDeps } from './deps.js';
import { factorsOf } from './factors.js';
import { formField, page, redirectDone } from './page.js';

/** The person's own face data: withdrawal of the biometric consent, erasing it at once (re-enrollment: reenroll.ts). */
export function faceRoutes(router: Router, deps: AccountDeps): void {
  async function renderWithdraw(ctx: Context, message: string | null = null, status = 200) {
    const { user } = accountOf(ctx);
    const before = await factorsOf(deps, user);
    const [templates, images] = await Promise.all([deps.templates.summary(user.id), deps.images.count(user.id)]);
    await page(
      ctx,
      'withdraw',
      { title: 'Withdraw your biometric consent', templates: templates.length, images, lastFactor: needsConfirmation(before, { ...before, face: false }), passkeys: before.passkeys, message },
      status,
    );
  }

  router.get('/face/withdraw', (ctx) => renderWithdraw(ctx));

  router.post('/face/withdraw', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { next: '/account/face/withdraw' });
    if (formField(ctx, 'confirm') !== 'yes') return renderWithdraw(ctx, 'Tick the box to confirm, or go back to keep your face sign-in.', 400);
    const erased = await deps.consent.withdraw(user.id);
    // The sign-ins made with the face rest on the consent just withdrawn: their apps are signed out (this page stays).
    const signedOut = await deps.sessions.endFaceSignIns(user.id, typeof session.claims.sid === 'string' ? session.claims.sid : null);
    await ctx.state.audit({ type: 'consent.biometric.withdraw', outcome: 'success', userId: user.id, actorId: user.id, details: { by: 'self', ...erased, appsSignedOut: signedOut } });
    redirectDone(ctx, 'consent-withdrawn');
  });
}
