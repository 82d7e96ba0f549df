import Router from '@koa/router';
import type { MetricsAccess } from './metrics-access.js';
import type { Metrics } from './metrics.js';

export interface ReadinessChecks {
  database: () => Promise<boolean>;
  store: () => Promise<boolean>;
  models: () => boolean;
}

/** A store that does not answer its ping within this time counts as down: the load balancer's probe gets 503 at once. */
const PING_DEADLINE_MS = 1000;

function withinDeadline(ping: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_DEADLINE_MS);
  });
  return Promise.race([ping.catch(() => false), late]).finally(() => clearTimeout(timer));
}

/**
 * /healthz: the process answers. /readyz: it can serve sign-ins (database, shared store, face models); everyone
 * gets the status code, only the metrics audience the failing check. /metrics: Prometheus text for that audience.
 */
export function healthRouter(checks: ReadinessChecks, metrics: Metrics, draining: () => boolean, access: MetricsAccess): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const [database, store] = await Promise.all([withinDeadline(checks.database()), withinDeadline(checks.store())]);
    const result = { database, store, models: checks.models(), draining: draining() };
    const ready = database && store && result.models && !result.draining;
    ctx.status = ready ? 200 : 503;
    const status = ready ? 'ready' : 'not ready';
    ctx.body = access(ctx) === 'allowed' ? { status, checks: result } : { status };
  });
  router.get('/metrics', async (ctx) => {
    const allowed = access(ctx);
    if (allowed === 'hidden') {
      ctx.status = 404;
      ctx.body = { error: 'NOT_FOUND', message: 'Not found.' };
      return;
    }
    if (allowed === 'unauthorized') {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'UNAUTHORIZED', message: 'Send the metrics token as a Bearer token.' };
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
