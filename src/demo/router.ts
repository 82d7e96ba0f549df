import Router from '@koa/router';
import { ACR } from '../oidc/acr.js';
import type { RelyingParty } from '../web/relying-party.js';
import { render } from '../web/views.js';

/** The built-in demo app: what "Sign in with Face" looks like from a relying party, and the claims it receives. */
export function demoRouter(rp: RelyingParty): Router {
  const router = new Router({ prefix: '/demo' });

  router.get('/', async (ctx) => {
    const session = await rp.session(ctx);
    const claims = session?.claims ?? null;
    await render(ctx, 'demo', {
      title: 'Demo app',
      claims,
      claimsJson: claims ? JSON.stringify(claims, null, 2) : null,
      authTime: typeof claims?.auth_time === 'number' ? new Date(claims.auth_time * 1000).toISOString() : null,
      acrs: ACR,
    });
  });

  router.get('/login', async (ctx) => {
    const acr = String(ctx.query.acr ?? '');
    const extra: Record<string, string> = { prompt: 'login' };
    if (acr === 'mfa') extra.acr_values = ACR.mfa;
    await rp.login(ctx, '/demo', extra);
  });

  router.get('/callback', async (ctx) => {
    const { returnTo } = await rp.callback(ctx);
    ctx.redirect(returnTo);
  });

  router.post('/logout', async (ctx) => {
    await rp.logout(ctx);
  });

  return router;
}
