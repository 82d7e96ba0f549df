import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MATCH_PRESETS, type MatchPreset } from '../face/similarity.js';

/** Repository root (where views/, models/ and prisma/ live), from src/config or dist/config. */
export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const APP_VERSION = (JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string }).version;


/**
 * Which X-Forwarded-* values to believe. `hops`: that many proxies append to X-Forwarded-For in front of every
 * instance. `addresses`: the proxies' addresses or networks; the client is the right-most address not among them.
 */
export type ProxyTrust = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; addresses: string[] };

export interface Config {
  port: number;
  host: string;
  issuer: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  /** Prepended to every Redis key, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  dataDir: string;
  /** 32-byte key that encrypts signing keys, client secrets and face templates at rest. */
  secretKey: Buffer | null;
  proxy: ProxyTrust;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  modelsDir: string;
  ttl: {
    session: number;
    interaction: number;
    accessToken: number;
    idToken: number;
    refreshToken: number;
    authorizationCode: number;
    grant: number;
  };
  face: {
    poolSize: number;
    maxQueue: number;
    /** An analysis expected to wait longer (ms) is refused with 503 + Retry-After instead of queued. */
    maxWaitMs: number;
    maxUploadBytes: number;
    maxPixels: number;
    matchPreset: MatchPreset;
    livenessThreshold: number;
  };
  documents: {
    /** Tesseract worker threads reading MRZs (started on the first document read). */
    workers: number;
  };
  proofing: {
    /** Where a document's portrait matches a face (live or enrolled) in identity proofing (src/proofing). */
    portraitMatchPreset: MatchPreset;
  };
  limits: {
    /** Consecutive failed face attempts before each further attempt waits `failureDelaySeconds`. */
    faceFailuresBeforeDelay: number;
    failureDelaySeconds: number;
    /** Consecutive failures after which the face factor is disabled until an admin re-enables it. */
    faceFailuresBeforeLockout: number;
    perIpPerMinute: number;
    apiPerClientPerMinute: number;
    /** Face Match requests of one client in flight at once on one instance; more get 429 at once. */
    apiConcurrentPerClient: number;
  };
  /** Who reads /metrics: see src/ops/metrics-access.ts. */
  metrics: {
    /** Bearer token required wherever metrics are served. */
    token: string | null;
    /** A separate listener for metrics; the public port then serves none. */
    port: number | null;
    host: string;
  };
  /** How often each instance re-reads the signing keys (a rotation takes over after two of these). */
  keyRefreshSeconds: number;
  demo: boolean;
  shutdownGraceMs: number;
  /** Node's HTTP server limits, set on purpose: a slow or stalled sender must not hold a socket for long. */
  http: {
    /** Whole request (headers and body) must arrive within this; then 408 and the socket closes. */
    requestTimeoutMs: number;
    /** Request headers must arrive within this. */
    headersTimeoutMs: number;
    /** An idle keep-alive socket closes after this; above a load balancer's idle timeout (AWS ALB: 60 s). */
    keepAliveTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid ${variable}: ${message}`);
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `expected a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got ${parsed.protocol}`);
  }
  return raw;
}

function secretKey(env: Env): Buffer | null {
  const raw = env.SECRET_KEY;
  if (raw === undefined || raw === '') return null;
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('SECRET_KEY', 'expected 32 bytes as 64 hex characters or base64');
  return key;
}

/** An IPv4 or IPv6 address, or a network in CIDR notation. */
function isAddressOrNetwork(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function proxyTrust(env: Env): ProxyTrust {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (raw === '' || ['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return { kind: 'none' };
  const explain = `expected the number of proxies in front of the server (e.g. 1) or a comma-separated list of their addresses or networks (e.g. 10.0.0.5, 10.1.0.0/16), got "${raw}"`;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) throw new ConfigError('TRUST_PROXY', `must be between 0 and 10 proxies, got ${hops}`);
    return { kind: 'hops', hops };
  }
  const addresses = raw.split(',').map((a) => a.trim()).filter(Boolean);
  if (addresses.length === 0 || !addresses.every(isAddressOrNetwork)) throw new ConfigError('TRUST_PROXY', explain);
  return { kind: 'addresses', addresses };
}

function metrics(env: Env, port: number): Config['metrics'] {
  const token = env.METRICS_TOKEN || null;
  if (token !== null && !/^[\x21-\x7e]{16,}$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 printable characters without spaces (e.g. `openssl rand -hex 32`)');
  }
  const metricsPort = int(env, 'METRICS_PORT', 0, 1, 65535) || null;
  if (metricsPort !== null && metricsPort === port) throw new ConfigError('METRICS_PORT', `must differ from PORT (${port})`);
  if (env.METRICS_HOST && metricsPort === null) throw new ConfigError('METRICS_HOST', 'is only used with METRICS_PORT');
  return { token, port: metricsPort, host: env.METRICS_HOST || '127.0.0.1' };
}

function httpTimeouts(env: Env): Config['http'] {
  // A 15 MB upload at 2 Mbit/s takes a minute: the default leaves room for it and no more.
  const requestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', 120_000, 1000, 3_600_000);
  const headersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', 15_000, 1000, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  return { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 1000, 600_000) };
}

/** Variables that may come from a file instead (Docker and Compose secrets): NAME_FILE holds the file's path. */
export const FILE_VARIABLES = ['SECRET_KEY', 'DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN'] as const;

/** The environment with every NAME_FILE replaced by the file's content (without its trailing newline) as NAME. */
function withFileSecrets(env: Env): Env {
  const named = FILE_VARIABLES.filter((name) => env[`${name}_FILE`]);
  if (named.length === 0) return env;
  const out: Env = { ...env };
  for (const name of named) {
    const file = env[`${name}_FILE`]!;
    if (env[name]) throw new ConfigError(`${name}_FILE`, `set either ${name} or ${name}_FILE, not both`);
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return out;
}

/** Reads the whole configuration from the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(source: Env = process.env): Config {
  const env = withFileSecrets(source);
  const port = int(env, 'PORT', 3000, 0, 65535);
  const issuerRaw = url(env, 'ISSUER', ['http:', 'https:']);
  const issuer = (issuerRaw ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (issuerRaw && (new URL(issuer).search || new URL(issuer).hash)) {
    throw new ConfigError('ISSUER', 'must not contain a query or fragment');
  }
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisKeyPrefix = env.REDIS_KEY_PREFIX ?? '';
  if (!/^[\w:.-]{0,64}$/.test(redisKeyPrefix)) throw new ConfigError('REDIS_KEY_PREFIX', 'up to 64 letters, digits and _ : . -');
  const key = secretKey(env);
  if (databaseUrl && !key) {
    // Every instance must decrypt the same signing keys and templates: the key cannot be generated per machine.
    throw new ConfigError('SECRET_KEY', 'is required when DATABASE_URL is set (generate one with `openssl rand -hex 32`)');
  }
  const modelsDir = path.resolve(env.MODELS_DIR || path.join(ROOT_DIR, 'models'));
  if (!existsSync(modelsDir)) throw new ConfigError('MODELS_DIR', `folder ${modelsDir} does not exist`);

  return {
    port,
    host: env.HOST || '0.0.0.0',
    issuer,
    databaseUrl,
    redisUrl,
    redisKeyPrefix,
    dataDir: path.resolve(env.DATA_DIR || path.join(process.cwd(), 'data')),
    secretKey: key,
    proxy: proxyTrust(env),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    modelsDir,
    ttl: {
      session: int(env, 'SESSION_TTL', 14 * 24 * 3600, 60, 365 * 24 * 3600),
      interaction: int(env, 'INTERACTION_TTL', 600, 60, 3600),
      accessToken: int(env, 'ACCESS_TOKEN_TTL', 600, 30, 86400),
      idToken: int(env, 'ID_TOKEN_TTL', 3600, 30, 86400),
      refreshToken: int(env, 'REFRESH_TOKEN_TTL', 14 * 24 * 3600, 60, 365 * 24 * 3600),
      authorizationCode: int(env, 'AUTHORIZATION_CODE_TTL', 60, 10, 600),
      grant: int(env, 'GRANT_TTL', 14 * 24 * 3600, 60, 365 * 24 * 3600),
    },
    face: {
      poolSize: int(env, 'FACE_WORKERS', Math.max(1, os.availableParallelism()), 1, 64),
      maxQueue: int(env, 'FACE_MAX_QUEUE', 64, 1, 10000),
      maxWaitMs: int(env, 'FACE_MAX_WAIT_MS', 2000, 100, 60000),
      maxUploadBytes: int(env, 'FACE_MAX_UPLOAD_BYTES', 15 * 1024 * 1024, 1024, 100 * 1024 * 1024),
      maxPixels: int(env, 'FACE_MAX_PIXELS', 40_000_000, 10_000, 300_000_000),
      matchPreset: oneOf(env, 'FACE_MATCH_PRESET', Object.keys(MATCH_PRESETS) as MatchPreset[], 'far-1e-4'),
      livenessThreshold: num(env, 'FACE_LIVENESS_THRESHOLD', 0.7, 0, 1),
    },
    documents: {
      workers: int(env, 'DOCUMENT_WORKERS', 1, 1, 16),
    },
    proofing: {
      portraitMatchPreset: oneOf(env, 'PROOFING_PORTRAIT_MATCH_PRESET', Object.keys(MATCH_PRESETS) as MatchPreset[], 'far-1e-3'),
    },
    limits: {
      faceFailuresBeforeDelay: int(env, 'FACE_FAILURES_BEFORE_DELAY', 5, 1, 100),
      failureDelaySeconds: int(env, 'FACE_FAILURE_DELAY_SECONDS', 30, 30, 3600),
      faceFailuresBeforeLockout: int(env, 'FACE_FAILURES_BEFORE_LOCKOUT', 50, 2, 10000),
      perIpPerMinute: int(env, 'RATE_LIMIT_PER_IP_PER_MINUTE', 60, 1, 100000),
      apiPerClientPerMinute: int(env, 'API_RATE_LIMIT_PER_MINUTE', 120, 1, 1000000),
      apiConcurrentPerClient: int(env, 'API_CONCURRENT_PER_CLIENT', 4, 1, 1000),
    },
    metrics: metrics(env, port),
    keyRefreshSeconds: int(env, 'KEY_REFRESH_SECONDS', 30, 1, 3600),
    demo: bool(env, 'DEMO_APP', true),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 120_000),
    http: httpTimeouts(env),
  };
}
