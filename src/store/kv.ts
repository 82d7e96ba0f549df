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
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

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
    async ping() {
      return true;
    },
    async close() {
      clearInterval(sweeper);
      data.clear();
    },
  };
}

export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, enableReadyCheck: true, lazyConnect: false });
  // Connection errors surface through failed commands and /readyz; an unhandled 'error' event would crash.
  redis.on('error', () => {});
  return redis;
}
