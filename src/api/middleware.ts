import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { ApiClient, ApiDeps } from './deps.js';
import { sendEnvelope } from './envelope.js';
import { ApiError } from './errors.js';
import { consumeRate } from '../web/rate-limit.js';

export const MATCH_SCOPE = 'face:match';

interface ApiState {
  requestId: string;
  client?: ApiClient;
}

export function apiState(ctx: Context): ApiState {
  return ctx.state.api as ApiState;
}

/** The authenticated client; only valid after `requireClient`. */
export function apiClient(ctx: Context): ApiClient {
  const client = apiState(ctx).client;
  if (!client) throw new Error('requireClient must run before this handler');
  return client;
}

/**
 * First in every API route: assigns the request id and turns every failure into the envelope, so no error ever
 * leaves as Koa's plain-text 500. Unexpected errors are logged with the request id and answered without details.
 */
export function apiErrors(deps: ApiDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const requestId = randomUUID();
    ctx.state.api = { requestId } satisfies ApiState;
    ctx.set('X-Request-Id', requestId);
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

/** RFC 6750 Bearer authentication; the token must carry the face:match scope and name a client that still exists. */
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
    const client = await deps.prisma.client.findUnique({ where: { clientId: grant.clientId }, select: { clientId: true, matchRules: true } });
    if (!client) throw invalid();
    apiState(ctx).client = client;
    await next();
  };
}

/** Per client, in the shared store's one-minute windows (Redis when configured: instances count together). */
export function rateLimit(deps: ApiDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const { clientId } = apiClient(ctx);
    const { ok, retryAfter } = await consumeRate(deps.kv, `api:${clientId}`, deps.config.limits.apiPerClientPerMinute);
    if (!ok) {
      deps.metrics.apiMatches.inc({ result: 'RATE_LIMITED' });
      throw new ApiError('RATE_LIMITED', `at most ${deps.config.limits.apiPerClientPerMinute} match requests a minute`, { 'Retry-After': String(retryAfter) });
    }
    await next();
  };
}
