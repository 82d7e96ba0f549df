import type { Context, Next } from 'koa';

/**
 * Headers for the product's own pages. Scripts and styles come only from /static (no inline code), frames are
 * refused, and camera use is limited to this origin. No form-action: browsers apply it to the redirect to a
 * relying party after a sign-in form. oidc-provider's endpoints set their own.
 */
export function securityHeaders() {
  return async (ctx: Context, next: Next) => {
    await next();
    if (!ctx.response.is('html')) return;
    ctx.set({
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Permissions-Policy': 'camera=(self), microphone=(), geolocation=()',
      'Cache-Control': 'no-store',
    });
  };
}
