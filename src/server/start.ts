import type { Config } from '../config/index.js';
import { createLogger } from '../ops/logger.js';
import { currentMallocContext, mallocWarning } from '../ops/malloc.js';
import { createApp, type RunningServer } from './app.js';

export type { RunningServer } from './app.js';

/** `face-oidc start`: the app listening, its mode announced, and the bootstrap link while no admin exists. */
export async function startServer(config: Config): Promise<RunningServer & { bootstrapLink: string | null }> {
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { logger });
  const server = await app.listen();
  const { services } = app;
  if (services.db.kind === 'pglite') {
    logger.warn({ dataDir: config.dataDir }, 'embedded database (PGlite): one process only; set DATABASE_URL for PostgreSQL');
  }
  if (!services.redis) {
    logger.warn('in-memory session state: one process only, sign-in sessions are lost on restart; set REDIS_URL for Redis');
  }
  const malloc = mallocWarning(currentMallocContext());
  if (malloc) logger.warn(malloc);
  const bootstrapLink = await services.firstAdmin.issueLink(config.issuer);
  logger.info({ issuer: config.issuer, port: server.port, database: services.db.kind, state: services.redis ? 'redis' : 'memory', faceWorkers: services.engine.stats().poolSize }, 'face-oidc listening');
  return {
    ...server,
    bootstrapLink,
    async close() {
      await server.close();
      logger.info('face-oidc stopped');
    },
  };
}
