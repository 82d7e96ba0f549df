import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.js';
import { issueBootstrapLink } from '../bootstrap/index.js';
import { healthRouter } from '../ops/health.js';
import { createLogger } from '../ops/logger.js';
import { metricsAccess } from '../ops/metrics-access.js';
import { listenForMetrics, type MetricsListener } from '../ops/metrics-server.js';
import { scheduleRetention } from '../retention/index.js';
import { createApp } from './app.js';
import { openServerServices, type ServerServices } from './services.js';

export interface RunningServer {
  url: string;
  port: number;
  services: ServerServices;
  bootstrapLink: string | null;
  /** Stops accepting connections, lets in-flight requests finish (up to the grace period), closes pools. */
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const services = await openServerServices(config, logger);
  const handle = createApp(services);
  const server = http.createServer(handle.app.callback());
  // Keep-alive sockets must not hold a draining instance open past the load balancer's idle timeout.
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await services.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  handle.setInternalBase(`http://127.0.0.1:${port}`);
  let metricsListener: MetricsListener | null = null;
  if (config.metrics.port !== null) {
    const router = healthRouter(handle.readiness, services.metrics, () => handle.draining.value, metricsAccess(config.metrics, 'metrics'));
    try {
      metricsListener = await listenForMetrics(config.metrics.host, config.metrics.port, router);
    } catch (err) {
      server.close();
      await services.close();
      throw err;
    }
  }

  if (services.db.kind === 'pglite') {
    logger.warn({ dataDir: config.dataDir }, 'embedded database (PGlite): one process only; set DATABASE_URL for PostgreSQL');
  }
  if (!services.redis) {
    logger.warn('in-memory session state: one process only, sign-in sessions are lost on restart; set REDIS_URL for Redis');
  }
  const bootstrapLink = await issueBootstrapLink(services.prisma, config.issuer);
  const retention = scheduleRetention({ ...services, logger });
  logger.info({ issuer: config.issuer, port, database: services.db.kind, state: services.redis ? 'redis' : 'memory', faceWorkers: services.engine.stats().poolSize }, 'face-oidc listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      handle.draining.value = true;
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      await drained;
      clearTimeout(timer);
      await metricsListener?.close();
      await retention.stop();
      await services.close();
      logger.info('face-oidc stopped');
    })());

  return { url: `http://127.0.0.1:${port}`, port, services, bootstrapLink, close };
}
