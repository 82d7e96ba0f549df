import type { Context, Next } from 'koa';
import type { KeyValueStore } from '../store/kv.js';
import { HttpError } from './errors.js';

/** Fixed one-minute windows in the shared store, so every instance counts against the same limit. */
export class RateWindows {
  constructor(private readonly kv: KeyValueStore) {}

  async consume(key: string, perMinute: number): Promise<{ ok: boolean; retryAfter: number }> {
    const window = Math.floor(Date.now() / 60_000);
    const count = await this.kv.incr(`rl:${key}:${window}`, 61);
    return { ok: count <= perMinute, retryAfter: 60 - Math.floor((Date.now() / 1000) % 60) };
  }

  /** Counts one request from the caller's address against `scope`; past the limit, a 429 with Retry-After. */
  async enforceIp(ctx: Context, scope: string, perMinute: number): Promise<void> {
    const { ok, retryAfter } = await this.consume(`${scope}:${ctx.ip}`, perMinute);
    if (!ok) {
      throw new HttpError(429, 'RATE_LIMITED', 'Too many requests from your network. Wait a minute and try again.', { 'Retry-After': String(retryAfter) });
    }
  }

  /** The same as middleware. */
  byIp(scope: string, perMinute: () => number) {
    return async (ctx: Context, next: Next) => {
      await this.enforceIp(ctx, scope, perMinute());
      await next();
    };
  }
}
