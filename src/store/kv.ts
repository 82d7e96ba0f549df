import { Redis } from 'ioredis';

/**
 * Short-lived shared state: rate-limit counters, attempt counters, single-use tokens, relying-party sessions.
 * Redis when configured (shared by every instance), otherwise process memory (embedded default, one process).
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Reads and deletes in one step: the basis of single-use tokens. */
  take(key: string): Promise<string | null>;
  del(key: string): Promise<void>;
  /** Increments a counter; the TTL is set when the counter is created. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  ttl(key: string): Promise<number>;
  /** Deletes `key` only while it holds `value`; true when this call deleted it (a single-use token that was the live one). */
  takeIfEquals(key: string, value: string): Promise<boolean>;
  /**
   * Compare-and-set: writes `value` only while `key` holds `expected` (null: only while absent); true when written.
   * A writer that read a state keeps it from being overwritten by a writer that read an older one.
   */
  replaceIfEquals(key: string, expected: string | null, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * One failure counter per `field` of the hash `key`, reserved before the attempt it counts is checked, in one atomic
   * step: a burst of concurrent attempts cannot overtake the count (see AttemptRule).
   */
  reserveAttempt(key: string, field: string, rule: AttemptRule): Promise<AttemptReservation>;
  /** Gives back a reservation whose attempt turned out not to count; `until` is the wait it set (0 for none). */
  releaseAttempt(key: string, field: string, until: number): Promise<void>;
  /** Makes the counter wait until at least `until` (a failed attempt's delay counts from its failure, not its start). */
  holdAttempt(key: string, field: string, until: number): Promise<void>;
  /** Forgets one counter (the attempt it guarded succeeded). */
  resetAttempt(key: string, field: string): Promise<void>;
  /** Every counter of the hash `key`, as { field: { count, until } }. */
  attemptCounters(key: string): Promise<Record<string, { count: number; until: number }>>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * How failures of one counter throttle the next attempt: from `delayAfter` failures on, each attempt waits a delay
 * that doubles per failure up to `maxDelayMs`; from `lockAfter` on, `lockMs`. The counter is forgotten `ttlMs` after
 * its last attempt. A reservation counts its attempt as failed in advance; success deletes the field, and an attempt
 * that turns out not to count is released.
 */
export interface AttemptRule {
  delayAfter: number;
  delayMs: number;
  maxDelayMs: number;
  lockAfter: number;
  lockMs: number;
  ttlMs: number;
}

export type AttemptReservation =
  /** `until`: when the next attempt may start (0 when it need not wait); `count`: failures including this one. */
  | { allowed: true; count: number; until: number }
  | { allowed: false; count: number; retryAfterMs: number };

/** Stored as "count:until" (until in epoch ms, 0 for none). */
const parseCounter = (raw: string | null | undefined) => {
  const [n, u] = (raw ?? '0:0').split(':').map(Number);
  return { n: n || 0, u: u || 0 };
};

const counters = (hash: Record<string, string>) => Object.fromEntries(Object.entries(hash).map(([f, raw]) => { const { n, u } = parseCounter(raw); return [f, { count: n, until: u }]; }));

/** The wait that follows the `n`-th failure under `rule`. */
export function waitAfter(n: number, rule: AttemptRule): number {
  if (n >= rule.lockAfter) return rule.lockMs;
  if (n >= rule.delayAfter) return Math.min(rule.delayMs * 2 ** (n - rule.delayAfter), rule.maxDelayMs);
  return 0;
}

const RESERVE_ATTEMPT = `local raw = redis.call('HGET', KEYS[1], ARGV[1])
local n, u = 0, 0
if raw then
  local sep = string.find(raw, ':')
  n = tonumber(string.sub(raw, 1, sep - 1))
  u = tonumber(string.sub(raw, sep + 1))
end
local now = tonumber(ARGV[2])
if u > now then return {0, n, u - now} end
n = n + 1
local wait = 0
if n >= tonumber(ARGV[6]) then wait = tonumber(ARGV[7])
elseif n >= tonumber(ARGV[3]) then wait = math.min(tonumber(ARGV[4]) * 2 ^ (n - tonumber(ARGV[3])), tonumber(ARGV[5])) end
local untilMs = 0
if wait > 0 then untilMs = now + wait end
redis.call('HSET', KEYS[1], ARGV[1], n .. ':' .. untilMs)
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {1, n, untilMs}`;

const RELEASE_ATTEMPT = `local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local sep = string.find(raw, ':')
local n = math.max(0, tonumber(string.sub(raw, 1, sep - 1)) - 1)
local u = tonumber(string.sub(raw, sep + 1))
if u == tonumber(ARGV[2]) then u = 0 end
redis.call('HSET', KEYS[1], ARGV[1], n .. ':' .. u)
return 1`;

const HOLD_ATTEMPT = `local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local sep = string.find(raw, ':')
local n = string.sub(raw, 1, sep - 1)
local u = math.max(tonumber(string.sub(raw, sep + 1)), tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], ARGV[1], n .. ':' .. u)
return 1`;

const TAKE_IF_EQUALS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const REPLACE_IF_EQUALS = `local cur = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and cur) or (ARGV[1] == '1' and cur ~= ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
return 1`;

const INCR_WITH_TTL = `local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return v`;

export function redisKeyValueStore(redis: Redis, prefix = 'fo:'): KeyValueStore {
  return {
    kind: 'redis',
    get: (key) => redis.get(prefix + key),
    async set(key, value, ttl) {
      await redis.set(prefix + key, value, 'EX', ttl);
    },
    async setIfAbsent(key, value, ttl) {
      return (await redis.set(prefix + key, value, 'EX', ttl, 'NX')) === 'OK';
    },
    take: (key) => redis.getdel(prefix + key),
    async del(key) {
      await redis.del(prefix + key);
    },
    async incr(key, ttl) {
      return Number(await redis.eval(INCR_WITH_TTL, 1, prefix + key, ttl));
    },
    ttl: (key) => redis.ttl(prefix + key),
    async takeIfEquals(key, value) {
      return Number(await redis.eval(TAKE_IF_EQUALS, 1, prefix + key, value)) === 1;
    },
    async replaceIfEquals(key, expected, value, ttl) {
      return Number(await redis.eval(REPLACE_IF_EQUALS, 1, prefix + key, expected === null ? '0' : '1', expected ?? '', value, ttl)) === 1;
    },
    async reserveAttempt(key, field, rule) {
      const [allowed, count, at] = (await redis.eval(RESERVE_ATTEMPT, 1, prefix + key, field, Date.now(), rule.delayAfter, rule.delayMs, rule.maxDelayMs, rule.lockAfter, rule.lockMs, rule.ttlMs)) as number[];
      return allowed === 1 ? { allowed: true, count, until: at } : { allowed: false, count, retryAfterMs: at };
    },
    async releaseAttempt(key, field, until) {
      await redis.eval(RELEASE_ATTEMPT, 1, prefix + key, field, until);
    },
    async holdAttempt(key, field, until) {
      await redis.eval(HOLD_ATTEMPT, 1, prefix + key, field, until);
    },
    async resetAttempt(key, field) {
      await redis.hdel(prefix + key, field);
    },
    attemptCounters: async (key) => counters(await redis.hgetall(prefix + key)),
    async ping() {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function memoryKeyValueStore(): KeyValueStore {
  const data = new Map<string, { value: string; expires: number }>();
  const live = (key: string) => {
    const entry = data.get(key);
    if (entry && entry.expires <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  };
  // Expired entries are otherwise only dropped when read; sweep so abandoned keys do not accumulate.
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [k, v] of data) if (v.expires <= now) data.delete(k);
  }, 60_000);
  sweeper.unref();
  return {
    kind: 'memory',
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttl) {
      data.set(key, { value, expires: Date.now() + ttl * 1000 });
    },
    async setIfAbsent(key, value, ttl) {
      if (live(key)) return false;
      data.set(key, { value, expires: Date.now() + ttl * 1000 });
      return true;
    },
    async take(key) {
      const entry = live(key);
      data.delete(key);
      return entry?.value ?? null;
    },
    async del(key) {
      data.delete(key);
    },
    async incr(key, ttl) {
      const entry = live(key);
      const value = entry ? Number(entry.value) + 1 : 1;
      data.set(key, { value: String(value), expires: entry?.expires ?? Date.now() + ttl * 1000 });
      return value;
    },
    async ttl(key) {
      const entry = live(key);
      return entry ? Math.ceil((entry.expires - Date.now()) / 1000) : -2;
    },
    async takeIfEquals(key, value) {
      if (live(key)?.value !== value) return false;
      data.delete(key);
      return true;
    },
    async replaceIfEquals(key, expected, value, ttl) {
      if ((live(key)?.value ?? null) !== expected) return false;
      data.set(key, { value, expires: Date.now() + ttl * 1000 });
      return true;
    },
    // Hashes are kept as JSON objects; each operation reads and writes without awaiting, so it is atomic here too.
    async reserveAttempt(key, field, rule) {
      const now = Date.now();
      const hash = JSON.parse(live(key)?.value ?? '{}') as Record<string, string>;
      const { n, u } = parseCounter(hash[field]);
      if (u > now) return { allowed: false, count: n, retryAfterMs: u - now };
      const wait = waitAfter(n + 1, rule);
      const until = wait > 0 ? now + wait : 0;
      hash[field] = `${n + 1}:${until}`;
      data.set(key, { value: JSON.stringify(hash), expires: now + rule.ttlMs });
      return { allowed: true, count: n + 1, until };
    },
    async releaseAttempt(key, field, until) {
      const entry = live(key);
      const hash = JSON.parse(entry?.value ?? '{}') as Record<string, string>;
      if (!entry || !(field in hash)) return;
      const { n, u } = parseCounter(hash[field]);
      hash[field] = `${Math.max(0, n - 1)}:${u === until ? 0 : u}`;
      entry.value = JSON.stringify(hash);
    },
    async holdAttempt(key, field, until) {
      const entry = live(key);
      const hash = JSON.parse(entry?.value ?? '{}') as Record<string, string>;
      if (!entry || !(field in hash)) return;
      const { n, u } = parseCounter(hash[field]);
      hash[field] = `${n}:${Math.max(u, until)}`;
      entry.value = JSON.stringify(hash);
    },
    async resetAttempt(key, field) {
      const entry = live(key);
      if (!entry) return;
      const hash = JSON.parse(entry.value) as Record<string, string>;
      delete hash[field];
      entry.value = JSON.stringify(hash);
    },
    async attemptCounters(key) {
      return counters(JSON.parse(live(key)?.value ?? '{}') as Record<string, string>);
    },
    async ping() {
      return true;
    },
    async close() {
      clearInterval(sweeper);
      data.clear();
    },
  };
}

/** `keyPrefix` goes in front of every key of every command (the key-value store's and the provider's alike). */
export function connectRedis(url: string, keyPrefix = ''): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    enableReadyCheck: true,
    lazyConnect: false,
    // While Redis is down a request fails at once (503) instead of waiting in a queue for the reconnection: a command
    // sent while disconnected is refused, one in flight when the connection drops is not retried, none waits past 1 s.
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    connectTimeout: 1000,
    // Reconnects forever, quickly at first, then once a second: work resumes by itself when Redis is back.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // Commands sent during start-up wait for the first connection; after it, none wait for a reconnection.
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
  // Connection errors surface through failed commands and /readyz; an unhandled 'error' event would crash.
  redis.on('error', () => {});
  return redis;
}
