import type { Context, Next } from 'koa';

/**
 * oidc-provider builds discovery and every URL it issues (endpoints, redirects, logout forms) from the request's
 * Host and X-Forwarded-* headers. Requests handed to it carry ISSUER's host and scheme instead, whatever the client
 * or a proxy sent, and the client address already resolved under TRUST_PROXY. The provider believes these headers
 * (`provider.proxy`) because only this middleware sets them.
 */
export function providerSeesIssuer(issuer: string) {
  const { host, protocol } = new URL(issuer);
  return async (ctx: Context, next: Next) => {
    const headers = ctx.req.headers;
    headers.host = host;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = protocol.slice(0, -1);
    headers['x-forwarded-for'] = ctx.ip;
    await next();
  };
}
