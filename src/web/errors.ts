import type { Context, Next } from 'koa';
import { redactedUrl } from '../ops/http.js';
import type { Logger } from '../ops/logger.js';
import { renderView } from './views.js';

/** An error meant for the client: status, machine-readable code, human message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/api/') || (ctx.accepts('html', 'json') === 'json' && !ctx.accepts('html'));
}

/**
 * Turns every error into a clear response and never leaks a stack trace. Unexpected errors are logged with the
 * request id; the client sees only that id.
 */
export function errorHandler(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const known = err instanceof HttpError;
      const status = known ? err.status : typeof (err as { status?: number }).status === 'number' && (err as { expose?: boolean }).expose ? (err as { status: number }).status : 500;
      const code = known ? err.code : status === 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
      const message = status === 500 ? `Something went wrong on our side (request ${ctx.state.requestId}).` : (err as Error).message;
      if (status >= 500) logger.error({ err, requestId: ctx.state.requestId, path: redactedUrl(ctx.path, '').path }, 'request failed');
      ctx.status = status;
      if (known) ctx.set(err.headers);
      if (wantsJson(ctx)) {
        ctx.body = { error: code, message };
      } else {
        ctx.type = 'html';
        ctx.body = await renderView('error', { title: 'Error', error: code, description: message });
      }
    }
  };
}
