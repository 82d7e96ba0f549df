import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ROOT } from '../helpers/server.js';

/** The Compose Specification's JSON Schema (Apache-2.0, see test/fixtures/compose-spec/SOURCES.md). */
const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'compose-spec', 'compose-spec.json'), 'utf8'));
const COMPOSE_TEXT = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
const CADDYFILE = readFileSync(path.join(ROOT, 'deploy', 'Caddyfile'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
}

/** The file as Compose sees it: YAML anchors and merge keys resolved. */
const compose = parse(COMPOSE_TEXT, { merge: true }) as Compose;

/** Every variable loadConfig reads, recorded by reading through a proxy (no list to keep in step by hand). */
function configVariables(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

/** The Compose formats the schema names, as the specification describes them. */
function validator() {
  // The schema names its meta-schema as http://json-schema.org/draft/2019-09/schema#, which Ajv does not know by that
  // spelling, and labels definitions with draft-04's `id` (its $refs are plain JSON pointers, so the labels are not
  // needed); the keywords it validates with are draft 2019-09's, which Ajv2019 implements.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  ajv.removeKeyword('id');
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[0-9a-f:.]+\]|[\d.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-f:.]+\/\d{1,3}$/i);
  return ajv.compile(SCHEMA);
}

const providers = Object.entries(compose.services).filter(([, s]) => s.image === 'face-oidc:local');

describe('compose.yaml', () => {
  it('is valid under the Compose Specification JSON Schema', () => {
    const validate = validator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check can fail: an unknown service key and a bad duration are refused', () => {
    const validate = validator();
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.redis.restart_policy = 'always';
    (broken.services.postgres.healthcheck as Record<string, unknown>).interval = 'five seconds';
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/services/redis', '/services/postgres/healthcheck/interval']));
  });

  it('runs PostgreSQL, Redis, two provider instances and a TLS proxy, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'provider-1', 'provider-2', 'proxy', 'redis']);
    expect(providers.map(([name]) => name)).toEqual(['provider-1', 'provider-2']);
    for (const [name, service] of Object.entries(compose.services)) expect(service.healthcheck?.test.length, name).toBeGreaterThan(1);
    for (const [, provider] of providers) {
      expect(provider.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(provider.healthcheck!.test.join(' ')).toContain('/readyz');
    }
    expect(compose.services.proxy.volumes).toContain('./deploy/Caddyfile:/etc/caddy/Caddyfile:ro');
    // Named volumes keep the database, Redis's append-only file and Caddy's certificates.
    expect(Object.keys(compose.volumes).sort()).toEqual(['caddy-config', 'caddy-data', 'postgres-data', 'redis-data']);
  });

  it('sets only variables src/config knows, and passes secrets as files', () => {
    const known = configVariables();
    // Sanity: the recorder sees ordinary and file-backed variables.
    expect(known).toContain('ISSUER');
    expect(known).toContain('SECRET_KEY_FILE');
    for (const [name, provider] of providers) {
      const unknown = Object.keys(provider.environment ?? {}).filter((v) => !known.has(v));
      expect(unknown, `${name} sets variables src/config does not read`).toEqual([]);
      expect(provider.environment).toMatchObject({ SECRET_KEY_FILE: '/run/secrets/secret_key', DATABASE_URL_FILE: '/run/secrets/database_url', REDIS_URL: 'redis://redis:6379', TRUST_PROXY: '1' });
      expect(provider.environment).not.toHaveProperty('SECRET_KEY');
      expect(provider.environment).not.toHaveProperty('DATABASE_URL');
      for (const secret of provider.secrets ?? []) expect(compose.secrets[secret]?.file).toMatch(/^\.\/deploy\/secrets\//);
    }
    // What the provider would start with, ISSUER interpolated as Compose does without FACE_OIDC_HOST.
    const env = { ...providers[0][1].environment!, ISSUER: 'https://localhost', DATABASE_URL_FILE: '', SECRET_KEY_FILE: '' };
    expect(loadConfig(env)).toMatchObject({ issuer: 'https://localhost', port: 3000, proxy: { kind: 'hops', hops: 1 }, demo: false });
  });

  it("balances over exactly the provider instances and ports the Caddyfile names, checking their readiness", () => {
    const upstreams = /reverse_proxy ([^{]+)\{/.exec(CADDYFILE)![1].trim().split(/\s+/);
    expect(upstreams).toEqual(providers.map(([name, s]) => `${name}:${s.environment!.PORT}`));
    expect(CADDYFILE).toMatch(/health_uri \/readyz/);
  });
});
