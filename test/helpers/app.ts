import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../src/config/index.js';
import { createApp } from '../../src/server/app.js';
import type { ServerServices, ServiceOverrides } from '../../src/server/services.js';
import { freePort } from './env.js';

/** The whole server built in-process (as `face-oidc start` builds it) and listening on a free port. */
export interface TestApp {
  url: string;
  port: number;
  env: Record<string, string>;
  services: ServerServices;
  /** The one-time link for the first administrator while none exists (what `start` prints). */
  bootstrapLink(): Promise<string | null>;
  stop(): Promise<void>;
}

/**
 * Starts the app with `env` as its environment (nothing is read from this process's), with one face worker and
 * warnings-only logs unless `env` says otherwise. Real PostgreSQL/Redis when `env` names them, PGlite otherwise.
 */
export async function startApp(env: Record<string, string>, overrides: ServiceOverrides = {}): Promise<TestApp> {
  const port = Number(env.PORT ?? (await freePort()));
  // Counters and lists in Redis outlive a run: each app gets its own key prefix unless the test shares one on purpose.
  const prefix: Record<string, string> = env.REDIS_URL ? { REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:` } : {};
  // Shedding by expected wait depends on the machine's load: tests that are not about it must not see it.
  const fullEnv = { PORT: String(port), ISSUER: `http://localhost:${port}`, LOG_LEVEL: 'warn', FACE_WORKERS: '1', FACE_MAX_WAIT_MS: '60000', ...prefix, ...env };
  const config = loadConfig(fullEnv);
  const app = await createApp(config, overrides);
  const server = await app.listen();
  return {
    url: `http://localhost:${port}`,
    port,
    env: fullEnv,
    services: app.services,
    bootstrapLink: () => app.services.firstAdmin.issueLink(config.issuer),
    stop: () => server.close(),
  };
}

/** An account with a consent recorded by "cli" and one template per photo, as `face-oidc user create --photo` makes it. */
export async function seedUser(s: ServerServices, input: { email: string; name: string; admin?: boolean; password?: string; photos?: string[] }) {
  const user = await s.accounts.create({ email: input.email, name: input.name, password: input.password ?? null, roles: input.admin ? ['admin'] : [] });
  if (input.photos?.length) {
    await s.consent.record(user.id, { kind: 'cli' });
    for (const photo of input.photos) await s.enrollment.enroll({ userId: user.id, image: await readFile(photo), source: 'cli', actor: { kind: 'cli' } });
  }
  return user;
}
