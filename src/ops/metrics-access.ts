import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from '../config/index.js';

/** Who may read /metrics and the readiness details: `hidden` answers as if there were nothing there. */
export type MetricsAccess = (ctx: Context) => 'allowed' | 'unauthorized' | 'hidden';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * A request from this machine itself: a loopback socket and no X-Forwarded-For, because a reverse proxy on the same
 * host forwards every visitor from loopback too (and says so in that header).
 */
export function isDirectLoopback(ctx: Context): boolean {
  return LOOPBACK.has(ctx.req.socket.remoteAddress ?? '') && ctx.req.headers['x-forwarded-for'] === undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function bearer(token: string): MetricsAccess {
  const expected = digest(token);
  return (ctx) => {
    const presented = /^Bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1];
    // Compared as digests: equal length, constant time.
    return presented && timingSafeEqual(digest(presented), expected) ? 'allowed' : 'unauthorized';
  };
}

/**
 * Metrics and readiness details name routes, counts and which dependency is down: operators' information.
 * With METRICS_PORT they are served only on that listener; METRICS_TOKEN requires a bearer token wherever they are
 * served; with neither, the public listener answers only requests from the machine itself.
 */
export function metricsAccess(metrics: Config['metrics'], listener: 'public' | 'metrics'): MetricsAccess {
  if (listener === 'public' && metrics.port !== null) return () => 'hidden';
  if (metrics.token) return bearer(metrics.token);
  if (listener === 'metrics') return () => 'allowed';
  return (ctx) => (isDirectLoopback(ctx) ? 'allowed' : 'hidden');
}
