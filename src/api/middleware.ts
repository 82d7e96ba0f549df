import type { Context, Middleware, Next } from 'koa';
import type { ApiClient, ApiDeps } from './deps.js';
import { sendEnvelope } from './envelope.js';
import { ApiError } from './errors.js';

export const MATCH_SCOPE = 'face:match';

const CLIENT = Symbol('api client');
type WithClient = Context & { [CLIENT]?: ApiClient };

/** The authenticated client; only valid after `requireClient`. */
export function apiClient(ctx: Context): ApiClient {
  const client = (ctx as WithClient)[CLIENT];
  if (!client) throw new Error('requireClient must run before this handler');
  return client;
}

/**
 * First in every API route: turns every failure into the envelope, so no error ever leaves as Koa's plain-text
 * 500. Unexpected errors are logged with the request's id (ops/http.ts) and answered without details.
 */
export function apiErrors(deps: Pick<ApiDeps, 'logger' | 'appVersion'>): Middleware {
  return async (ctx: Context, next: Next) => {
    const { requestId } = ctx.state;
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (err) {
      const known = err instanceof ApiError ? err : null;
      if (!known) deps.logger.error({ err, requestId, path: ctx.path }, 'api request failed');
      const failure = known ?? new ApiError('INTERNAL_ERROR', `unexpected error; quote request ${requestId}`);
      ctx.set(failure.headers);
      sendEnvelope(ctx, deps.appVersion, { status: failure.status, message: failure.message, errorCodes: [failure.code] });
    }
  };
}

/** RFC 6750 Bearer authentication; the token must carry the face:match scope, name a client that still exists and be newer than its secret. */
export function requireClient(deps: ApiDeps): Middleware {
  const challenge = (extra = '') => ({ 'WWW-Authenticate': `Bearer realm="face-oidc", scope="${MATCH_SCOPE}"${extra}` });
  return async (ctx: Context, next: Next) => {
    const token = /^Bearer +([\w\-.~+/]+=*)$/i.exec(ctx.get('authorization'))?.[1];
    if (!token) throw new ApiError('UNAUTHORIZED', 'send an access token: Authorization: Bearer <token>', challenge());
    const grant = await deps.authenticate(token);
    const invalid = () => new ApiError('UNAUTHORIZED', 'the access token is unknown, expired or revoked', challenge(', error="invalid_token"'));
    if (!grant) throw invalid();
    if (!grant.scopes.includes(MATCH_SCOPE)) {
      throw new ApiError('INSUFFICIENT_SCOPE', `the access token lacks the ${MATCH_SCOPE} scope`, challenge(', error="insufficient_scope"'));
    }
    const client = await deps.clients.apiCaller(grant.clientId);
    // A deleted client, or a token obtained with a secret that has since been rotated (it may have leaked). Token
    // issue times have whole seconds, so the rotation's second counts as after it.
    const rotated = client?.secretRotatedAt ? Math.floor(client.secretRotatedAt.getTime() / 1000) * 1000 : 0;
    if (!client || grant.issuedAt.getTime() < rotated) throw invalid();
    (ctx as WithClient)[CLIENT] = { clientId: grant.clientId, matchRules: client.matchRules, matchEnrolledUsers: client.matchEnrolledUsers };
    await next();
  };
}

/**
 * Per client, at most `apiConcurrentPerClient` requests in flight on this instance: one client's burst cannot take
 * the engine from the others (with several instances each has its own share). Beyond it, 429 at once.
 */
export function concurrencyCap(deps: ApiDeps): Middleware {
  const inFlight = new Map<string, number>();
  return async (ctx: Context, next: Next) => {
    const { clientId } = apiClient(ctx);
    const cap = deps.config.limits.apiConcurrentPerClient;
    const running = inFlight.get(clientId) ?? 0;
    if (running >= cap) {
      deps.metrics.apiMatches.inc({ result: 'RATE_LIMITED' });
      throw new ApiError('RATE_LIMITED', `at most ${cap} match requests of one client at a time`, { 'Retry-After': '1' });
    }
    inFlight.set(clientId, running + 1);
    try {
      await next();
    } finally {
      const left = (inFlight.get(clientId) ?? 1) - 1;
      if (left > 0) inFlight.set(clientId, left);
      else inFlight.delete(clientId);
    }
  };
}

/** Per client, in the shared store's one-minute windows (Redis when configured: instances count together). */
export function rateLimit(deps: ApiDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const { clientId } = apiClient(ctx);
    const { ok, retryAfter } = await deps.rate.consume(`api:${clientId}`, deps.config.limits.apiPerClientPerMinute);
    if (!ok) {
      deps.metrics.apiMatches.inc({ result: 'RATE_LIMITED' });
      throw new ApiError('RATE_LIMITED', `at most ${deps.config.limits.apiPerClientPerMinute} match requests a minute`, { 'Retry-After': String(retryAfter) });
    }
    await next();
  };
}
