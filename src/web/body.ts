import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { HttpError } from './errors.js';

/** Form and JSON bodies of our own pages: small, so 64 KB is plenty. */
const LIMIT = '64kb';

/**
 * The body parser's refusals (invalid or cut-short JSON, a body over the limit, a stream that failed) carry a 4xx
 * status but library wording: each becomes an HttpError with a machine code, so it is answered as the client's
 * mistake, never as a 500.
 */
function bodyHttpError(err: unknown): unknown {
  const status = (err as { status?: unknown }).status;
  if (err instanceof HttpError || typeof status !== 'number' || status >= 500) return err;
  if (status === 413) return new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${LIMIT}.`);
  if (status === 415) return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the form as application/x-www-form-urlencoded or JSON.');
  return new HttpError(400, 'INVALID_BODY', 'The request body could not be read (invalid or incomplete JSON or form data).');
}

/** Our own routes parse form and JSON bodies (oidc-provider's endpoints parse their own). */
export function parseBodiesUnder(prefixes: string[]) {
  const parse = bodyParser({ enableTypes: ['form', 'json'], formLimit: LIMIT, jsonLimit: LIMIT });
  return async (ctx: Context, next: Next) => {
    if (!prefixes.some((p) => ctx.path.startsWith(p))) return next();
    let parsed = false;
    try {
      await parse(ctx, async () => {
        parsed = true;
        await next();
      });
    } catch (err) {
      // Errors from the routes after parsing pass through untouched.
      throw parsed ? err : bodyHttpError(err);
    }
  };
}
