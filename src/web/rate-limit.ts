import { isIPv6 } from 'node:net';
import type { Context, Next } from 'koa';
import type { KeyValueStore } from '../store/kv.js';
import { normalizeIp } from './client-ip.js';
import { HttpError } from './errors.js';

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 part converted). */
function hextets(ip: string): number[] {
  let text = ip.split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((h) => parseInt(h, 16));
}

/**
 * The rate-limit bucket of an address. An IPv6 subscriber is given at least a /64 and picks any address in it at
 * will, so IPv6 is counted per /64; IPv4 per address.
 */
export function rateKeyForIp(address: string): string {
  const ip = normalizeIp(address);
  if (!isIPv6(ip)) return ip;
  return `${hextets(ip).slice(0, 4).map((h) => h.toString(16)).join(':')}::/64`;
}

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
    await this.enforce(`${scope}:${rateKeyForIp(ctx.ip)}`, perMinute, 'Too many requests from your network. Wait a minute and try again.');
  }

  /** Counts one request against `key` (e.g. one sign-in); past the limit, a 429 with Retry-After and `message`. */
  async enforce(key: string, perMinute: number, message: string): Promise<void> {
    const { ok, retryAfter } = await this.consume(key, perMinute);
    if (!ok) throw new HttpError(429, 'RATE_LIMITED', message, { 'Retry-After': String(retryAfter) });
  }

  /** The same as middleware. */
  byIp(scope: string, perMinute: () => number) {
    return async (ctx: Context, next: Next) => {
      await this.enforceIp(ctx, scope, perMinute());
      await next();
    };
  }
}
