import type { Context, Next } from 'koa';
import type { KeyValueStore } from '../store/kv.js';
import { HttpError } from './errors.js';

/** Fixed one-minute windows in the shared store, so every instance counts against the same limit. */
export async function consumeRate(kv: KeyValueStore, key: string, perMinute: number): Promise<{ ok: boolean; retryAfter: number }> {
  const window = Math.floor(Date.now() / 60_000);
  const count = await kv.incr(`rl:${key}:${window}`, 61);
  return { ok: count <= perMinute, retryAfter: 60 - Math.floor((Date.now() / 1000) % 60) };
}

/** Counts one request from the caller's address against `scope`; past the limit, a 429 with Retry-After. */
export async function enforceIpRate(ctx: Context, kv: KeyValueStore, scope: string, perMinute: number): Promise<void> {
  const { ok, retryAfter } = await consumeRate(kv, `${scope}:${ctx.ip}`, perMinute);
  if (!ok) {
    throw new HttpError(429, 'RATE_LIMITED', 'Too many requests from your network. Wait a minute and try again.', { 'Retry-After': String(retryAfter) });
  }
}

export function rateLimitByIp(kv: KeyValueStore, scope: string, perMinute: () => number) {
  return async (ctx: Context, next: Next) => {
    await enforceIpRate(ctx, kv, scope, perMinute());
    await next();
  };
}
