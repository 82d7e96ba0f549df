import Router from '@koa/router';
import type { Metrics } from './metrics.js';

export interface ReadinessChecks {
  database: () => Promise<boolean>;
  store: () => Promise<boolean>;
  models: () => boolean;
}

/** /healthz: the process answers. /readyz: it can serve sign-ins (database, shared store, face models). */
export function healthRouter(checks: ReadinessChecks, metrics: Metrics, draining: () => boolean): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const [database, store] = await Promise.all([checks.database(), checks.store()]);
    const result = { database, store, models: checks.models(), draining: draining() };
    const ready = database && store && result.models && !result.draining;
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready', checks: result };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
