import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa, { type Context, type Next } from 'koa';
import type Provider from 'oidc-provider';
import serve from 'koa-static';
import { APP_VERSION, ROOT_DIR, type Config } from '../config/index.js';
import { accountRouters } from '../account/index.js';
import { adminRouters } from '../admin/index.js';
import { createApiRouter } from '../api/index.js';
import { bootstrapRouter } from '../bootstrap/index.js';
import { demoRouter } from '../demo/router.js';
import { selfEnrollmentRouter } from '../enrollment/router.js';
import { faceStep } from '../interaction/face-step.js';
import { InteractionKit } from '../interaction/kit.js';
import { passkeyStep } from '../interaction/passkey-step.js';
import { passwordStep } from '../interaction/password-step.js';
import { createInteractionRouter } from '../interaction/router.js';
import { healthRouter } from '../ops/health.js';
import { metricsAccess } from '../ops/metrics-access.js';
import { listenForMetrics, type MetricsListener } from '../ops/metrics-server.js';
import { observe } from '../ops/http.js';
import { requestAudit } from '../web/audit.js';
import { parseBodiesUnder } from '../web/body.js';
import { errorHandler } from '../web/errors.js';
import { clientAddress, koaProxyOptions } from '../web/client-ip.js';
import { corsForRegisteredOrigins } from '../web/cors.js';
import { strictTransportSecurity } from '../web/hsts.js';
import { providerSeesIssuer } from '../web/issuer-origin.js';
import { RelyingParty } from '../web/relying-party.js';
import { securityHeaders } from '../web/security.js';
import { DPOP_ALGS } from '../oidc/provider.js';
import { ACCOUNT_CLIENT_ID, ADMIN_CLIENT_ID, DEMO_CLIENT_ID } from './builtin-clients.js';
import { openServerServices, type ServerServices, type ServiceOverrides } from './services.js';

export interface App {
  app: Koa;
  services: ServerServices;
  /** Listens on config.host:config.port (0 picks a free port) and returns the running server. */
  listen(): Promise<RunningServer>;
  /** Closes the services of an app that never listened. */
  close(): Promise<void>;
}

export interface RunningServer {
  url: string;
  port: number;
  services: ServerServices;
  /** Stops accepting connections, lets in-flight requests finish (up to the grace period), closes pools. */
  close(): Promise<void>;
}

/** Files of views/static at /static/…, where every page links them; anything else there is a 404. */
function staticUnder(prefix: string, dir: string) {
  const files = serve(dir, { maxage: 3600_000, index: false, defer: false });
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith(`${prefix}/`)) return next();
    ctx.path = ctx.path.slice(prefix.length);
    await files(ctx, async () => {
      ctx.status = 404;
    });
  };
}

/** @simplewebauthn/browser's ES modules, served as they are installed: pages load them under script-src 'self'. */
const webauthnBrowser = path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'esm');

/** Resolves a Face Match API access token: client_credentials tokens only, unexpired (revoked ones are gone); jkt when DPoP-bound. */
async function clientCredentials(provider: Provider, token: string) {
  const found = await provider.ClientCredentials.find(token);
  if (!found?.clientId || found.isExpired || typeof found.iat !== 'number') return null;
  return { clientId: found.clientId, scopes: (found.scope ?? '').split(' ').filter(Boolean), issuedAt: new Date(found.iat * 1000), jkt: found.jkt };
}

/** What /readyz checks: the database, the shared store and the face models. */
const readinessOf = (s: ServerServices) => ({ database: () => s.db.ping(), store: () => s.kv.ping(), models: () => s.engine.ready });

/** The composition root: every surface gets the domain services it declares, and nothing else. */
function compose(s: ServerServices, internalBase: () => string, draining: () => boolean): Koa {
  const readiness = readinessOf(s);
  const { config, provider } = s;
  const app = new Koa(koaProxyOptions(config.proxy));
  app.keys = provider.keys;
  // Route errors are answered by errorHandler; what still reaches here is a client's broken connection.
  app.on('error', (err: Error) => s.logger.debug({ err }, 'client connection error'));

  const rp = (name: string, clientId: string, base: string, postLogoutPath = base) =>
    new RelyingParty({ name, issuer: config.issuer, internalBase, clientId, redirectPath: `${base}/callback`, postLogoutPath, scope: 'openid profile email', sessionTtl: 8 * 3600, kv: s.kv });
  const kit = new InteractionKit({
    config,
    provider,
    users: s.users,
    approvals: s.approvals,
    proofing: { isValid: (id) => s.proofing.isValid(id), offered: async () => (await s.settings.get()).proofingEnabled },
    verification: s.verification,
    passkeys: s.passkeys,
    states: s.states,
    csrf: s.csrf,
    rate: s.rate,
    metrics: s.metrics,
    approvedPasskeysOnly: (clientId) => clientId === ADMIN_CLIENT_ID,
  });

  app.use(clientAddress(config.proxy));
  app.use(observe(s.logger, s.metrics));
  app.use(strictTransportSecurity(config.issuer));
  app.use(errorHandler(s.logger));
  app.use(requestAudit(s.audit, s.logger));
  app.use(securityHeaders());
  app.use(staticUnder('/static/vendor/webauthn', webauthnBrowser));
  app.use(staticUnder('/static', path.join(ROOT_DIR, 'views', 'static')));
  app.use(parseBodiesUnder(['/interaction/', '/bootstrap/', '/demo/', '/admin', '/enroll/', '/account']));

  const routers = [
    healthRouter(readiness, s.metrics, draining, metricsAccess(config.metrics, 'public')),
    createInteractionRouter(kit, [passwordStep, passkeyStep, faceStep]),
    // The first admin enrolls their face right away: the console itself requires a face sign-in.
    bootstrapRouter({ firstAdmin: s.firstAdmin, csrf: s.csrf, afterCreate: async (userId) => `/enroll/${(await s.invites.create(userId, userId, 1)).token}` }),
    selfEnrollmentRouter({
      users: s.users,
      invites: s.invites,
      consent: s.consent,
      enrollment: s.enrollment,
      passkeys: s.passkeys,
      csrf: s.csrf,
      maxUploadBytes: config.face.maxUploadBytes,
      proofingAfterInvite: async () => {
        const settings = await s.settings.get();
        return settings.proofingEnabled && settings.proofingAfterInvite;
      },
    }),
    ...adminRouters(
      {
        config,
        accounts: s.accounts,
        users: s.users,
        consent: s.consent,
        enrollment: s.enrollment,
        templates: s.templates,
        invites: s.invites,
        attempts: s.verification.attempts,
        sessions: s.sessions,
        approvals: s.approvals,
        clients: s.clients,
        audit: s.audit,
        settings: s.settings,
        retention: s.retention,
        engine: s.engine,
        passkeys: s.passkeys,
        challengeStats: s.challengeStats,
        proofing: s.proofing,
      },
      { rp: rp('admin', ADMIN_CLIENT_ID, '/admin', '/admin/signed-out'), csrf: s.csrf, providerSession: (accountId, sid) => s.sessions.holds(accountId, ADMIN_CLIENT_ID, sid) },
    ),
    ...accountRouters(
      {
        config,
        users: s.users,
        consent: s.consent,
        templates: s.templates,
        images: s.images,
        enrollment: s.enrollment,
        verification: s.verification,
        rate: s.rate,
        passkeys: s.passkeys,
        audit: s.audit,
        apps: {
          name: async (id) => (await s.clients.get(id))?.name ?? null,
          find: async (id) => {
            const client = await s.clients.get(id);
            return client && { name: client.name, builtIn: client.builtIn };
          },
        },
        approvals: s.approvals,
        settings: s.settings,
        proofing: s.proofing,
        proofingFlow: s.proofingFlow,
        sessions: {
          list: (id) => s.sessions.list(id),
          revokeApp: (id, clientId) => s.sessions.revokeApp(id, clientId),
          endFaceSignIns: (id, sid) => s.sessions.endFaceSignIns(id, sid ? { clientId: ACCOUNT_CLIENT_ID, sid } : undefined),
        },
      },
      { rp: rp('account', ACCOUNT_CLIENT_ID, '/account', '/account/signed-out'), csrf: s.csrf, providerSession: (accountId, sid) => s.sessions.holds(accountId, ACCOUNT_CLIENT_ID, sid) },
    ),
    ...(config.demo ? [demoRouter(rp('demo', DEMO_CLIENT_ID, '/demo'))] : []),
    createApiRouter({
      config,
      engine: s.engine,
      documents: s.documents,
      verification: s.verification,
      attempts: s.verification.attempts,
      users: s.users,
      clients: s.clients,
      records: s.records,
      settings: s.settings,
      audit: s.audit,
      rate: s.rate,
      metrics: s.metrics,
      logger: s.logger,
      appVersion: APP_VERSION,
      authenticate: (token) => clientCredentials(provider, token),
      dpop: { algorithms: DPOP_ALGS, firstUse: (key, ttl) => s.kv.setIfAbsent(key, '1', ttl) },
    }),
  ];
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());

  app.use(async (ctx, next) => {
    if (ctx.path === '/') return ctx.redirect(config.demo ? '/demo' : '/.well-known/openid-configuration');
    await next();
  });
  // The provider answers everything else (discovery, /auth, /token, /jwks, logout, and its own 404s).
  const providerCallback = provider.callback();
  app.use(corsForRegisteredOrigins(config.issuer, () => s.clients.webOrigins()));
  app.use(providerSeesIssuer(config.issuer));
  app.use(async (ctx) => {
    ctx.respond = false;
    await providerCallback(ctx.req, ctx.res);
  });
  return app;
}

/**
 * Builds the whole server in-process: services (database migrated, engine, provider) and the Koa app. Tests and the
 * benchmark use it directly; `face-oidc start` listens with it.
 */
export async function createApp(config: Config, overrides: ServiceOverrides = {}): Promise<App> {
  const services = await openServerServices(config, overrides);
  let internalBase = `http://127.0.0.1:${config.port}`;
  let draining = false;
  const app = compose(services, () => internalBase, () => draining);

  async function listen(): Promise<RunningServer> {
    const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs } = config.http;
    // Slow senders are cut at these limits (checked every second rather than Node's 30 s); keep-alive sockets must
    // not hold a draining instance open past the load balancer's idle timeout.
    const server = http.createServer(
      { requestTimeout: requestTimeoutMs, headersTimeout: headersTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, connectionsCheckingInterval: 1000 },
      app.callback(),
    );
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
    internalBase = `http://127.0.0.1:${port}`;
    // METRICS_PORT: /metrics and the detailed /readyz on a listener of their own (e.g. reachable by Prometheus only).
    let metricsListener: MetricsListener | null = null;
    if (config.metrics.port !== null) {
      const router = healthRouter(readinessOf(services), services.metrics, () => draining, metricsAccess(config.metrics, 'metrics'));
      try {
        metricsListener = await listenForMetrics(config.metrics.host, config.metrics.port, router);
      } catch (err) {
        server.close();
        await services.close();
        throw err;
      }
    }
    const retention = services.retention.schedule();
    const signingKeys = services.followSigningKeys();
    services.logouts.start();
    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        draining = true;
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await drained;
        clearTimeout(timer);
        await metricsListener?.close();
        await retention.stop();
        await signingKeys.stop();
        await services.logouts.stop();
        await services.close();
      })());
    return { url: `http://127.0.0.1:${port}`, port, services, close };
  }

  return { app, services, listen, close: () => services.close() };
}
