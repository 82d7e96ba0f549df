import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Factor } from '../oidc/acr.js';
import type { InteractionKit, Loaded } from './kit.js';

/**
 * A sign-in factor. Each renders its page and registers its own POST routes under /interaction/:uid/…; it reports
 * what it verified through `kit.advance`, so `amr`/`acr` reflect the steps that actually ran.
 */
export interface Step {
  factor: Factor;
  render(ctx: Context, kit: InteractionKit, loaded: Loaded, message?: string): Promise<void>;
  routes(router: Router, kit: InteractionKit): void;
}

/** Form posts get a redirect; script calls (fetch with Accept: application/json) get JSON. */
export function respondNext(ctx: Context, location: string): void {
  if (ctx.accepts('html', 'json') === 'json') {
    ctx.body = { status: 'ok', redirect: location };
  } else {
    ctx.redirect(location);
  }
}
