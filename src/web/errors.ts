import type { Context, Next } from 'koa';
import { redactedUrl } from '../ops/http.js';
import type { Logger } from '../ops/logger.js';
import { STORE_RETRY_AFTER_SECONDS, unavailableStore } from '../store/unavailable.js';
import { renderView } from './views.js';

/** An error meant for the client: HTTP status, machine-readable code, human message (and headers, extra JSON fields). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra members of the JSON answer next to `error`, e.g. a photo verdict or the next capture token. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The one JSON error shape outside the Face Match API (which keeps its own envelope). */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
  [detail: string]: unknown;
}

export function errorBody(err: HttpError, requestId: string): ErrorBody {
  return { ...err.details, error: { code: err.code, message: err.message, requestId } };
}

/** Script calls (fetch with Accept: application/json) get JSON; browsers navigating get a page. */
export function wantsJson(ctx: Context): boolean {
  return ctx.accepts('html', 'json') === 'json';
}

/** Writes `err` as the JSON error shape (headers included). */
export function sendError(ctx: Context, err: HttpError): void {
  ctx.status = err.status;
  ctx.set(err.headers);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = errorBody(err, ctx.state.requestId);
}

/** An error that says PostgreSQL or Redis is unreachable, as 503 STORE_UNAVAILABLE with Retry-After; null for others. */
export function storeUnavailable(err: unknown): HttpError | null {
  if (!unavailableStore(err)) return null;
  return new HttpError(503, 'STORE_UNAVAILABLE', 'The service is briefly unavailable; please try again in a moment.', { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) });
}

/** Koa's own errors (e.g. a body over its limit) carry a status and an `expose` flag. */
function asHttpError(err: unknown, requestId: string): HttpError {
  if (err instanceof HttpError) return err;
  const unavailable = storeUnavailable(err);
  if (unavailable) return unavailable;
  const e = err as { status?: unknown; expose?: boolean; message?: string };
  if (typeof e.status === 'number' && e.status < 500 && e.expose) return new HttpError(e.status, 'BAD_REQUEST', e.message ?? 'Bad request.');
  return new HttpError(500, 'INTERNAL_ERROR', `Something went wrong on our side (request ${requestId}).`);
}

/**
 * Turns every error into a clear response and never leaks a stack trace: the JSON error shape for script calls, an
 * error page for browsers. Unexpected errors are logged with the request id; the client sees only that id.
 */
export function errorHandler(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const requestId = ctx.state.requestId;
      const known = asHttpError(err, requestId);
      const path = redactedUrl(ctx.path, '').path;
      if (known.code === 'STORE_UNAVAILABLE') logger.warn({ err, requestId, path }, 'request failed: store unreachable');
      else if (known.status >= 500) logger.error({ err, requestId, path }, 'request failed');
      if (wantsJson(ctx)) return sendError(ctx, known);
      ctx.status = known.status;
      ctx.set(known.headers);
      ctx.type = 'html';
      ctx.body = await renderView('error', { title: 'Error', error: known.code, description: known.message, requestId });
    }
  };
}
