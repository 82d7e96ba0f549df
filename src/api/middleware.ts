import type { Context, Middleware, Next } from 'koa';
import type { ApiClient, ApiDeps } from './deps.js';
import { DpopError, verifyDpopProof } from './dpop.js';
import { sendEnvelope } from './envelope.js';
import { storeUnavailable } from '../web/errors.js';
import { ApiError } from './errors.js';

export const MATCH_SCOPE = 'face:match';

const CLIENT = Symbol('api client');
type WithClient = Context & { [CLIENT]?: ApiClient };

/** The authenticated client; only valid after `requireClient`. */
export function apiClient(ctx: Context): ApiClient {
  const client = (ctx as WithClient)[CLIENT];
  if (!client) throw new Error('requireClient must run before this handler');
  return client;
}

/** PostgreSQL or Redis unreachable: 503 with the same Retry-After as every other surface. */
function storeOutage(err: unknown): ApiError | null {
  const outage = storeUnavailable(err);
  return outage && new ApiError('STORE_UNAVAILABLE', 'the database or the shared store is briefly unreachable; retry later', outage.headers);
}

/**
 * First in every API route: turns every failure into the envelope, so no error ever leaves as Koa's plain-text
 * 500. Unexpected errors are logged with the request's id (ops/http.ts) and answered without details.
 */
export function apiErrors(deps: Pick<ApiDeps, 'logger' | 'appVersion'>): Middleware {
  return async (ctx: Context, next: Next) => {
    const { requestId } = ctx.state;
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (err) {
      const known = err instanceof ApiError ? err : storeOutage(err);
      if (!known) deps.logger.error({ err, requestId, path: ctx.path }, 'api request failed');
      else if (known.code === 'STORE_UNAVAILABLE') deps.logger.warn({ err, requestId, path: ctx.path }, 'api request failed: store unreachable');
      const failure = known ?? new ApiError('INTERNAL_ERROR', `unexpected error; quote request ${requestId}`);
      ctx.set(failure.headers);
      sendEnvelope(ctx, deps.appVersion, { status: failure.status, message: failure.message, errorCodes: [failure.code] });
    }
  };
}

/** The two ways to present a token: RFC 6750 Bearer, or RFC 9449 DPoP with a proof of the key it is bound to. */
function presented(header: string): { scheme: 'Bearer' | 'DPoP'; token: string } | null {
  const m = /^(Bearer|DPoP) +([\w\-.~+/]+=*)$/i.exec(header);
  if (!m) return null;
  return { scheme: m[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: m[2] };
}

/**
 * Bearer or DPoP authentication; the token must carry the face:match scope, name a client that still exists and be
 * newer than its secret. A DPoP-bound token is accepted only with the DPoP scheme and a valid proof (a stolen token
 * alone is useless), and an unbound one only as Bearer.
 */
export function requireClient(deps: ApiDeps): Middleware {
  const algs = deps.dpop.algorithms.join(' ');
  const challenge = (scheme?: 'Bearer' | 'DPoP', extra = '') => {
    const bearer = `Bearer realm="face-oidc", scope="${MATCH_SCOPE}"`;
    const dpop = `DPoP realm="face-oidc", scope="${MATCH_SCOPE}", algs="${algs}"`;
    return { 'WWW-Authenticate': scheme === 'DPoP' ? dpop + extra : scheme === 'Bearer' ? bearer + extra : `${bearer}, ${dpop}` };
  };
  return async (ctx: Context, next: Next) => {
    const sent = presented(ctx.get('authorization'));
    if (!sent) throw new ApiError('UNAUTHORIZED', 'send an access token: Authorization: Bearer <token>, or DPoP <token> with a DPoP proof', challenge());
    const { scheme, token } = sent;
    const invalid = (message = 'the access token is unknown, expired or revoked', as = scheme) => new ApiError('UNAUTHORIZED', message, challenge(as, ', error="invalid_token"'));
    const grant = await deps.authenticate(token);
    if (!grant) throw invalid();
    if (grant.jkt && scheme !== 'DPoP') throw invalid('this access token is DPoP-bound: send it as Authorization: DPoP <token> with a DPoP proof', 'DPoP');
    if (!grant.jkt && scheme === 'DPoP') throw invalid('this access token is not DPoP-bound: send it as Authorization: Bearer <token>');
    if (grant.jkt) {
      try {
        await verifyDpopProof({
          proof: ctx.get('dpop'),
          method: ctx.method,
          url: new URL(ctx.path, deps.config.issuer).href,
          accessToken: token,
          jkt: grant.jkt,
          algorithms: deps.dpop.algorithms,
          firstUse: deps.dpop.firstUse,
        });
      } catch (err) {
        if (!(err instanceof DpopError)) throw err;
        throw new ApiError('INVALID_DPOP_PROOF', err.message, challenge('DPoP', ', error="invalid_dpop_proof"'));
      }
    }
    if (!grant.scopes.includes(MATCH_SCOPE)) {
      throw new ApiError('INSUFFICIENT_SCOPE', `the access token lacks the ${MATCH_SCOPE} scope`, challenge(scheme, ', error="insufficient_scope"'));
    }
    const client = await deps.clients.apiCaller(grant.clientId);
    // A deleted client, or a token obtained with a secret that has since been rotated (it may have leaked). Token
    // issue times have whole seconds, so the rotation's second counts as after it.
    const rotated = client?.secretRotatedAt ? Math.floor(client.secretRotatedAt.getTime() / 1000) * 1000 : 0;
    if (!client || grant.issuedAt.getTime() < rotated) throw invalid();
    (ctx as WithClient)[CLIENT] = { clientId: grant.clientId, matchRules: client.matchRules, matchEnrolledUsers: client.matchEnrolledUsers };
    await next();
  };
}

/**
 * Per client, at most `apiConcurrentPerClient` requests in flight on this instance: one client's burst cannot take
 * the engine from the others (with several instances each has its own share). Beyond it, 429 at once.
 */
export function concurrencyCap(deps: ApiDeps): Middleware {
  const inFlight = new Map<string, number>();
  return async (ctx: Context, next: Next) => {
    const { clientId } = apiClient(ctx);
    const cap = deps.config.limits.apiConcurrentPerClient;
    const running = inFlight.get(clientId) ?? 0;
    if (running >= cap) {
      deps.metrics.apiMatches.inc({ result: 'RATE_LIMITED' });
      throw new ApiError('RATE_LIMITED', `at most ${cap} match requests of one client at a time`, { 'Retry-After': '1' });
    }
    inFlight.set(clientId, running + 1);
    try {
      await next();
    } finally {
      const left = (inFlight.get(clientId) ?? 1) - 1;
      if (left > 0) inFlight.set(clientId, left);
      else inFlight.delete(clientId);
    }
  };
}

/** Per client, in the shared store's one-minute windows (Redis when configured: instances count together). */
export function rateLimit(deps: ApiDeps): Middleware {
  return async (ctx: Context, next: Next) => {
    const { clientId } = apiClient(ctx);
    const { ok, retryAfter } = await deps.rate.consume(`api:${clientId}`, deps.config.limits.apiPerClientPerMinute);
    if (!ok) {
      deps.metrics.apiMatches.inc({ result: 'RATE_LIMITED' });
      throw new ApiError('RATE_LIMITED', `at most ${deps.config.limits.apiPerClientPerMinute} match requests a minute`, { 'Retry-After': String(retryAfter) });
    }
    await next();
  };
}
