import type { Context, Next } from 'koa';

/** One year: browsers that saw the header keep to https for that long, even when a link or a typed URL says http. */
const MAX_AGE = 365 * 24 * 3600;

/**
 * Strict-Transport-Security on every response (the provider's included) when the public URL is https. Without it a
 * first plain-http request can be intercepted and never upgraded. No includeSubDomains: other hosts under the
 * same domain are not ours to commit to https.
 */
export function strictTransportSecurity(issuer: string) {
  const enabled = new URL(issuer).protocol === 'https:';
  return async (ctx: Context, next: Next) => {
    if (enabled) ctx.set('Strict-Transport-Security', `max-age=${MAX_AGE}`);
    await next();
  };
}
