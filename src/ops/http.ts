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

/** Request id, one JSON log line per request (no query strings: they carry codes and tokens), latency histogram. */
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
        logger.info({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, route, status, ms: Math.round(seconds * 1000), ip: ctx.ip }, 'request');
      }
    }
  };
}
