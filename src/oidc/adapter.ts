import type { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

/**
 * oidc-provider storage. Short-lived protocol state (sessions, interactions, codes, tokens, grants) lives in Redis
 * when configured, otherwise in process memory; clients always come from the database.
 * Tokens are indexed by grant so revoking a grant revokes everything issued under it; sessions and grants are
 * indexed by account so an administrator can list and end a person's sessions and grants.
 */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
// A pushed authorization request is single-use too: oidc-provider consumes it when the authorization completes.
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest']);

export type ClientLoader = (clientId: string) => Promise<AdapterPayload | undefined>;

export interface StoredEntry {
  id: string;
  payload: AdapterPayload;
}

/** What the adapters add to oidc-provider's interface (populated for the Session and Grant models). */
export interface AccountIndex {
  /** The account's live entries of this model; entries that ended are dropped from the index on the way. */
  findByAccount(accountId: string): Promise<StoredEntry[]>;
}

export function hasAccountIndex(adapter: unknown): adapter is AccountIndex {
  return typeof (adapter as Partial<AccountIndex>)?.findByAccount === 'function';
}

/**
 * oidc-provider checks `consumed` when it reads a code or refresh token and consumes it later in the same request,
 * so concurrent requests presenting one token all pass the check. Consuming is therefore the atomic step: the one
 * call that marks the entry wins, every other call is a reuse, which revokes the grant (RFC 9700 §4.14, RFC 6749
 * §4.1.2) and ends its request with invalid_grant. Revoking deletes the Grant itself, so tokens the winner saves after
 * the revocation are refused too (the token, userinfo and introspection endpoints all look the grant up).
 */
const words = (model: string) => model.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
const reused = (model: string) => new errors.InvalidGrant(`${words(model)} already used`);
const gone = (model: string) => new errors.InvalidGrant(`${words(model)} not found`);

/** 1: consumed by this call; 0: the entry is gone; otherwise the payload of an entry consumed earlier. */
const CONSUME_ONCE = `if redis.call('HEXISTS', KEYS[1], 'payload') == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return redis.call('HGET', KEYS[1], 'payload')`;

const BY_ACCOUNT = new Set(['Session', 'Grant']);
const indexesAccount = (name: string, payload: AdapterPayload) => BY_ACCOUNT.has(name) && typeof payload.accountId === 'string';

class RedisAdapter implements Adapter, AccountIndex {
  constructor(
    private readonly name: string,
    private readonly redis: Redis,
  ) {}

  private key(id: string) {
    return `oidc:${this.name}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    const key = this.key(id);
    const multi = this.redis.multi();
    if (CONSUMABLE.has(this.name)) {
      multi.hset(key, { payload: JSON.stringify(payload) });
    } else {
      multi.set(key, JSON.stringify(payload));
    }
    if (expiresIn) multi.expire(key, expiresIn);
    if (GRANTABLE.has(this.name) && payload.grantId) {
      const grantKey = `oidc:grant:${payload.grantId}`;
      multi.rpush(grantKey, key);
      // The grant index must outlive every token listed in it.
      const ttl = await this.redis.ttl(grantKey);
      if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
    }
    if (indexesAccount(this.name, payload)) {
      const accountKey = `oidc:account:${this.name}:${payload.accountId}`;
      multi.sadd(accountKey, id);
      const ttl = await this.redis.ttl(accountKey);
      if (expiresIn > ttl) multi.expire(accountKey, expiresIn);
    }
    if (payload.userCode) {
      multi.set(`oidc:userCode:${payload.userCode}`, id);
      multi.expire(`oidc:userCode:${payload.userCode}`, expiresIn);
    }
    if (payload.uid) {
      multi.set(`oidc:uid:${payload.uid}`, id);
      multi.expire(`oidc:uid:${payload.uid}`, expiresIn);
    }
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const key = this.key(id);
    if (CONSUMABLE.has(this.name)) {
      const data = await this.redis.hgetall(key);
      if (!data.payload) return undefined;
      const payload = JSON.parse(data.payload) as AdapterPayload;
      return data.consumed ? { ...payload, consumed: Number(data.consumed) } : payload;
    }
    const data = await this.redis.get(key);
    return data ? (JSON.parse(data) as AdapterPayload) : undefined;
  }

  async findByUid(uid: string) {
    const id = await this.redis.get(`oidc:uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string) {
    const id = await this.redis.get(`oidc:userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async destroy(id: string) {
    await this.redis.del(this.key(id));
  }

  async revokeByGrantId(grantId: string) {
    const grantKey = `oidc:grant:${grantId}`;
    const tokens = await this.redis.lrange(grantKey, 0, -1);
    const multi = this.redis.multi();
    for (const token of tokens) multi.del(token);
    multi.del(grantKey);
    await multi.exec();
  }

  async consume(id: string) {
    const key = this.key(id);
    const outcome = (await this.redis.eval(CONSUME_ONCE, 1, key, Math.floor(Date.now() / 1000))) as number | string;
    if (typeof outcome === 'number') {
      if (outcome === 1) return;
      throw gone(this.name);
    }
    const { grantId } = JSON.parse(outcome) as AdapterPayload;
    if (grantId) {
      await this.revokeByGrantId(grantId);
      await this.redis.del(`oidc:Grant:${grantId}`);
    }
    await this.redis.del(key);
    throw reused(this.name);
  }

  async findByAccount(accountId: string): Promise<StoredEntry[]> {
    const accountKey = `oidc:account:${this.name}:${accountId}`;
    const found: StoredEntry[] = [];
    for (const id of await this.redis.smembers(accountKey)) {
      const payload = await this.find(id);
      if (payload?.accountId === accountId) found.push({ id, payload });
      else await this.redis.srem(accountKey, id);
    }
    return found;
  }
}

interface Entry {
  payload: AdapterPayload;
  expires: number;
}

/** Process-local storage with the same semantics, for the single-process embedded default. */
class MemoryState {
  readonly data = new Map<string, Entry>();
  readonly index = new Map<string, { ids: Set<string>; expires: number }>();

  sweep() {
    const now = Date.now();
    for (const [k, v] of this.data) if (v.expires <= now) this.data.delete(k);
    for (const [k, v] of this.index) if (v.expires <= now) this.index.delete(k);
  }

  put(key: string, value: string, expires: number) {
    this.index.set(key, { ids: new Set([value]), expires });
  }
}

class MemoryAdapter implements Adapter, AccountIndex {
  constructor(
    private readonly name: string,
    private readonly state: MemoryState,
  ) {}

  private key(id: string) {
    return `${this.name}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    const expires = expiresIn ? Date.now() + expiresIn * 1000 : Number.MAX_SAFE_INTEGER;
    const key = this.key(id);
    this.state.data.set(key, { payload: structuredClone(payload), expires });
    if (GRANTABLE.has(this.name) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const grant = this.state.index.get(grantKey) ?? { ids: new Set<string>(), expires };
      grant.ids.add(key);
      grant.expires = Math.max(grant.expires, expires);
      this.state.index.set(grantKey, grant);
    }
    if (indexesAccount(this.name, payload)) {
      const accountKey = `account:${this.name}:${payload.accountId}`;
      const entries = this.state.index.get(accountKey) ?? { ids: new Set<string>(), expires };
      entries.ids.add(id);
      entries.expires = Math.max(entries.expires, expires);
      this.state.index.set(accountKey, entries);
    }
    if (payload.userCode) this.state.put(`userCode:${payload.userCode}`, id, expires);
    if (payload.uid) this.state.put(`uid:${payload.uid}`, id, expires);
  }

  async find(id: string) {
    const entry = this.state.data.get(this.key(id));
    if (!entry || entry.expires <= Date.now()) return undefined;
    return structuredClone(entry.payload);
  }

  private async findIndexed(key: string) {
    const entry = this.state.index.get(key);
    if (!entry || entry.expires <= Date.now()) return undefined;
    const [id] = entry.ids;
    return id ? this.find(id) : undefined;
  }

  findByUid(uid: string) {
    return this.findIndexed(`uid:${uid}`);
  }

  findByUserCode(userCode: string) {
    return this.findIndexed(`userCode:${userCode}`);
  }

  async destroy(id: string) {
    this.state.data.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string) {
    const grant = this.state.index.get(`grant:${grantId}`);
    for (const key of grant?.ids ?? []) this.state.data.delete(key);
    this.state.index.delete(`grant:${grantId}`);
  }

  async consume(id: string) {
    const key = this.key(id);
    const entry = this.state.data.get(key);
    if (!entry || entry.expires <= Date.now()) throw gone(this.name);
    // Check and mark in one synchronous step: no other request runs in between.
    if (!entry.payload.consumed) {
      entry.payload.consumed = Math.floor(Date.now() / 1000);
      return;
    }
    const { grantId } = entry.payload;
    if (grantId) {
      await this.revokeByGrantId(grantId);
      this.state.data.delete(`Grant:${grantId}`);
    }
    this.state.data.delete(key);
    throw reused(this.name);
  }

  async findByAccount(accountId: string): Promise<StoredEntry[]> {
    const entries = this.state.index.get(`account:${this.name}:${accountId}`);
    const found: StoredEntry[] = [];
    for (const id of entries?.ids ?? []) {
      const payload = await this.find(id);
      if (payload?.accountId === accountId) found.push({ id, payload });
      else entries!.ids.delete(id);
    }
    return found;
  }
}

/** Clients are read from the database; nothing writes them through the adapter (no dynamic registration). */
class ClientAdapter implements Adapter {
  constructor(private readonly load: ClientLoader) {}
  async upsert() {
    throw new Error('clients are managed with the CLI or the admin UI');
  }
  find(id: string) {
    return this.load(id);
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async destroy() {}
  async revokeByGrantId() {}
  async consume() {}
}

export interface AdapterOptions {
  redis: Redis | null;
  loadClient: ClientLoader;
}

export interface AdapterFactoryHandle {
  factory: (name: string) => Adapter;
  close(): void;
}

export function createAdapterFactory({ redis, loadClient }: AdapterOptions): AdapterFactoryHandle {
  const state = new MemoryState();
  const sweeper = redis ? null : setInterval(() => state.sweep(), 60_000);
  sweeper?.unref();
  return {
    factory: (name: string) => {
      if (name === 'Client') return new ClientAdapter(loadClient);
      return redis ? new RedisAdapter(name, redis) : new MemoryAdapter(name, state);
    },
    close() {
      if (sweeper) clearInterval(sweeper);
      state.data.clear();
      state.index.clear();
    },
  };
}
