import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import '../web/state.js';

const PROVIDER_ROUTES = ['/.well-known/openid-configuration', '/jwks', '/auth', '/token/introspection', '/token/revocation', '/token', '/me', '/session/end'];
/**
 * An incoming X-Request-Id (from a load balancer or the caller) is kept when it is a UUID, the form Face Match API
 * records are keyed by; anything else is replaced rather than logged.
 */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A bounded route label: the router's pattern, a provider endpoint, or "other" (never the raw path). */
function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return PROVIDER_ROUTES.find((p) => ctx.path === p || ctx.path.startsWith(`${p}/`)) ?? (ctx.path.startsWith('/static/') ? '/static' : 'other');
}

/** The request's id: a well-formed incoming X-Request-Id (from a proxy or the caller), else a new UUID. */
function requestIdOf(ctx: Context): string {
  const incoming = ctx.get('x-request-id');
  return REQUEST_ID.test(incoming) ? incoming.toLowerCase() : randomUUID();
}


/** Path segments that are bearer secrets (an enrollment invite, the bootstrap link): reading one is using it. */
const SECRET_SEGMENTS = [/^(\/enroll\/)[^/]+/, /^(\/bootstrap\/)[^/]+/];

/**
 * Query parameters whose values say what happened without letting a reader act on it. Every other value (code,
 * state, token, id_token_hint, login_hint, nonce, code_challenge, …) is logged as [redacted].
 */
const SAFE_PARAMS = new Set([
  'client_id',
  'response_type',
  'response_mode',
  'scope',
  'prompt',
  'acr_values',
  'acr',
  'max_age',
  'display',
  'ui_locales',
  'redirect_uri',
  'post_logout_redirect_uri',
  'code_challenge_method',
  'iss',
  'error',
  'error_description',
  'next',
]);

const REDACTED = '[redacted]';

/** What the request log records of a URL: secret path segments and query values replaced. */
export function redactedUrl(path: string, querystring: string): { path: string; query: Record<string, string> | undefined } {
  const safePath = SECRET_SEGMENTS.reduce((p, pattern) => p.replace(pattern, `$1${REDACTED}`), path);
  if (!querystring) return { path: safePath, query: undefined };
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(querystring)) query[name] = SAFE_PARAMS.has(name) ? value : REDACTED;
  return { path: safePath, query };
}

/** Request id, one JSON log line per request (secrets in the path and query redacted), latency histogram. */
export function observe(logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const start = process.hrtime.bigint();
    ctx.state.requestId = requestIdOf(ctx);
    ctx.set('X-Request-Id', ctx.state.requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const route = routeLabel(ctx);
      metrics.httpDuration.observe({ method: ctx.method, route, status: String(status) }, seconds);
      if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics') {
        const { path, query } = redactedUrl(ctx.path, ctx.querystring);
        logger.info({ requestId: ctx.state.requestId, method: ctx.method, path, query, route, status, ms: Math.round(seconds * 1000), ip: ctx.ip }, 'request');
      }
    }
  };
}
