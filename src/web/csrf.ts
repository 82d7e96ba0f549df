import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { safeEqual } from '../store/crypto.js';
import { HttpError } from './errors.js';

/**
 * Stateless CSRF tokens: an HMAC of what the form belongs to (an interaction uid or a session id). A token
 * from another session or a forged one fails; no server-side storage is needed.
 */
export class Csrf {
  constructor(private readonly key: Buffer) {}

  token(binding: string): string {
    return createHmac('sha256', this.key).update(`csrf:${binding}`).digest('base64url');
  }

  /** Reads the token from the form field `_csrf` or the `x-csrf-token` header. */
  verify(ctx: Context, binding: string): void {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const sent = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? ctx.get('x-csrf-token');
    if (!sent || !safeEqual(sent, this.token(binding))) {
      throw new HttpError(403, 'CSRF_TOKEN_INVALID', 'This form has expired or was not sent from this site. Reload the page and try again.');
    }
  }
}
