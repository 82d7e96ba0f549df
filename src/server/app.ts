import path from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import Koa, { type Context, type Next } from 'koa';
import type Provider from 'oidc-provider';
import serve from 'koa-static';
import { APP_VERSION, ROOT_DIR } from '../config/index.js';
import { createApiRouter } from '../api/index.js';
import { adminRouters } from '../admin/index.js';
import { bootstrapRouter } from '../bootstrap/index.js';
import { demoRouter } from '../demo/router.js';
import { InviteStore } from '../enrollment/invites.js';
import { selfEnrollmentRouter } from '../enrollment/router.js';
import { InteractionKit } from '../interaction/kit.js';
import { createInteractionRouter } from '../interaction/router.js';
import { faceStep } from '../interaction/steps/face.js';
import { passwordStep } from '../interaction/steps/password.js';
import { healthRouter, type ReadinessChecks } from '../ops/health.js';
import { metricsAccess } from '../ops/metrics-access.js';
import { observe } from '../ops/http.js';
import { errorHandler } from '../web/errors.js';
import { clientAddress, koaProxyOptions } from '../web/client-ip.js';
import { corsForRegisteredOrigins } from '../web/cors.js';
import { strictTransportSecurity } from '../web/hsts.js';
import { providerSeesIssuer } from '../web/issuer-origin.js';
import { RelyingParty } from '../web/relying-party.js';
import { securityHeaders } from '../web/security.js';
import { ADMIN_CLIENT_ID, DEMO_CLIENT_ID } from './builtin-clients.js';
import type { ServerServices } from './services.js';

export interface AppHandle {
  app: Koa;
  /** Set once the server listens: built-in apps call the provider on this address. */
  setInternalBase(url: string): void;
  draining: { value: boolean };
  readiness: ReadinessChecks;
}

/** Our own routes parse form and JSON bodies; oidc-provider's endpoints parse their own. */
function parseBodiesUnder(prefixes: string[]) {
  const parse = bodyParser({ enableTypes: ['form', 'json'], formLimit: '64kb', jsonLimit: '64kb' });
  return (ctx: Context, next: Next) => (prefixes.some((p) => ctx.path.startsWith(p)) ? parse(ctx, next) : next());
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

/** Resolves a Face Match API bearer token: client_credentials tokens only, unexpired (revoked ones are gone). */
async function clientCredentials(provider: Provider, token: string) {
  const found = await provider.ClientCredentials.find(token);
  if (!found?.clientId || found.isExpired) return null;
  return { clientId: found.clientId, scopes: (found.scope ?? '').split(' ').filter(Boolean) };
}

export function createApp(s: ServerServices): AppHandle {
  const { config, provider } = s;
  const app = new Koa(koaProxyOptions(config.proxy));
  let internalBase = `http://127.0.0.1:${config.port}`;
  const draining = { value: false };
  app.keys = provider.keys;

  const kit = new InteractionKit({
    config,
    provider,
    users: s.users,
    templates: s.templates,
    consents: s.consents,
    kv: s.kv,
    csrf: s.csrf,
    audit: s.audit,
    metrics: s.metrics,
    settings: s.settings,
    engine: s.engine,
  });
  const rp = (name: string, clientId: string, base: string, postLogoutPath = base) =>
    new RelyingParty({
      name,
      issuer: config.issuer,
      internalBase: () => internalBase,
      clientId,
      redirectPath: `${base}/callback`,
      postLogoutPath,
      scope: 'openid profile email',
      sessionTtl: 8 * 3600,
      kv: s.kv,
    });

  app.use(clientAddress(config.proxy));
  app.use(observe(s.logger, s.metrics));
  app.use(strictTransportSecurity(config.issuer));
  app.use(errorHandler(s.logger));
  app.use(securityHeaders());
  app.use(staticUnder('/static', path.join(ROOT_DIR, 'views', 'static')));
  app.use(parseBodiesUnder(['/interaction/', '/bootstrap/', '/demo/', '/admin', '/enroll/']));
  const invites = new InviteStore(s.prisma);

  const readiness: ReadinessChecks = { database: () => s.db.ping(), store: () => s.kv.ping(), models: () => s.engine.ready };
  const routers = [
    healthRouter(readiness, s.metrics, () => draining.value, metricsAccess(config.metrics, 'public')),
    createInteractionRouter(kit, [passwordStep, faceStep]),
    // The first admin enrolls their face right away: the console itself requires a face sign-in.
    bootstrapRouter({ prisma: s.prisma, audit: s.audit, csrf: s.csrf, afterCreate: async (userId) => `/enroll/${(await invites.create(userId, userId, 1)).token}` }),
    selfEnrollmentRouter({ ...s, invites, maxUploadBytes: config.face.maxUploadBytes }),
    ...adminRouters(s, rp('admin', ADMIN_CLIENT_ID, '/admin', '/admin/signed-out'), invites),
    ...(config.demo ? [demoRouter(rp('demo', DEMO_CLIENT_ID, '/demo'))] : []),
    createApiRouter({ ...s, appVersion: APP_VERSION, authenticate: (token) => clientCredentials(provider, token) }),
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

  return { app, setInternalBase: (url) => (internalBase = url), draining, readiness };
}
