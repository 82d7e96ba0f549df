import { BlockList, isIP, isIPv4 } from 'node:net';
import type { Context, Next } from 'koa';
import type { ProxyTrust } from '../config/index.js';

/** `::ffff:203.0.113.5` (an IPv4 client of a dual-stack socket) is 203.0.113.5; brackets and ports are dropped. */
export function normalizeIp(value: string): string {
  let ip = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracketed) ip = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

function proxyList(addresses: string[]): BlockList {
  const list = new BlockList();
  for (const entry of addresses) {
    const [address, bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

export type ClientIpResolver = (peer: string, forwardedFor: string | undefined) => string;

/**
 * The client's address from the socket peer and X-Forwarded-For. Every proxy appends the address it received the
 * request from, so only the right-hand entries written by our own proxies can be believed; whatever a client sends
 * itself stands on the left. With `hops` proxies the client is the `hops`-th entry from the right; with a list of
 * proxies it is the right-most entry that is not one of them (and the peer itself unless the peer is a proxy).
 */
export function clientIpResolver(trust: ProxyTrust): ClientIpResolver {
  const chainOf = (header: string | undefined) => (header ?? '').split(',').map(normalizeIp).filter(Boolean);
  if (trust.kind === 'none') return (peer) => normalizeIp(peer);
  if (trust.kind === 'hops') {
    return (peer, header) => {
      const chain = chainOf(header);
      return chain.length ? chain[Math.max(0, chain.length - trust.hops)] : normalizeIp(peer);
    };
  }
  const isProxy = isTrustedProxy(trust.addresses);
  return (peer, header) => {
    const from = normalizeIp(peer);
    if (!isProxy(from)) return from;
    const chain = chainOf(header);
    for (let i = chain.length - 1; i >= 0; i--) if (!isProxy(chain[i])) return chain[i];
    return chain[0] ?? from;
  };
}

export function isTrustedProxy(addresses: string[]): (ip: string) => boolean {
  const list = proxyList(addresses);
  return (ip) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** Koa's own reading of X-Forwarded-*, consistent with the trust: `ctx.ips` keeps only the entries of trusted hops. */
export function koaProxyOptions(trust: ProxyTrust): { proxy: boolean; maxIpsCount: number } {
  return { proxy: trust.kind !== 'none', maxIpsCount: trust.kind === 'hops' ? trust.hops : 0 };
}

/** What Koa reads when it trusts a proxy. */
const FORWARDED = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];

/**
 * Sets `ctx.ip` (logs, audit, rate limits) to the client's address under the configured trust. With a list of
 * proxies, a request that did not come through one has its X-Forwarded-* headers dropped, so that its scheme and
 * host are not taken from the client either.
 */
export function clientAddress(trust: ProxyTrust) {
  const resolve = clientIpResolver(trust);
  const isProxy = trust.kind === 'addresses' ? isTrustedProxy(trust.addresses) : null;
  return async (ctx: Context, next: Next) => {
    const peer = ctx.req.socket.remoteAddress ?? '';
    if (isProxy && !isProxy(normalizeIp(peer))) for (const name of FORWARDED) delete ctx.req.headers[name];
    ctx.request.ip = resolve(peer, ctx.get('x-forwarded-for') || undefined);
    await next();
  };
}
