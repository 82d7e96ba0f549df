import type { ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';

/** Removes every Access-Control-* header just before the response head is written. */
function withoutCorsHeaders(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    for (const name of this.getHeaderNames()) if (name.startsWith('access-control-')) this.removeHeader(name);
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * Cross-origin reads of the provider only from registered web origins (those of the clients' redirect URIs).
 * oidc-provider answers every preflight, and its discovery, JWKS and error responses, with the caller's Origin;
 * per client it checks origins through `clientBasedCORS`. For any other origin this strips its CORS headers, so the
 * browser keeps the response from the calling page; the request itself is served as for a client without CORS.
 */
export function corsForRegisteredOrigins(issuer: string, registered: () => Promise<Set<string>>) {
  const own = new URL(issuer).origin;
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    if (origin && origin !== own && !(await registered()).has(origin)) {
      ctx.vary('Origin');
      withoutCorsHeaders(ctx.res);
    }
    await next();
  };
}
