import http from 'node:http';
import type Router from '@koa/router';
import Koa from 'koa';

export interface MetricsListener {
  close(): Promise<void>;
}

/** The operators' listener (METRICS_HOST:METRICS_PORT): only the health router, nothing of the product. */
export async function listenForMetrics(host: string, port: number, router: Router): Promise<MetricsListener> {
  const app = new Koa();
  app.use(router.routes()).use(router.allowedMethods());
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
