import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  it('has safe defaults for the embedded mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, issuer: 'http://localhost:3000', databaseUrl: null, redisUrl: null, proxy: { kind: 'none' } });
    expect(c.metrics).toEqual({ token: null, port: null, host: '127.0.0.1' });
    expect(c.face.matchPreset).toBe('far-1e-4');
    expect(c.limits).toMatchObject({ faceFailuresBeforeDelay: 5, failureDelaySeconds: 30, faceFailuresBeforeLockout: 50 });
  });

  it('reads secrets from files named by NAME_FILE (Docker and Compose secrets), and names the variable when it cannot', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-config-'));
    try {
      const key = 'ab'.repeat(32);
      writeFileSync(path.join(dir, 'secret_key'), `${key}\n`);
      writeFileSync(path.join(dir, 'database_url'), 'postgresql://face:pw@postgres:5432/face\n');
      const c = loadConfig({ SECRET_KEY_FILE: path.join(dir, 'secret_key'), DATABASE_URL_FILE: path.join(dir, 'database_url') });
      expect(c.secretKey?.toString('hex')).toBe(key);
      expect(c.databaseUrl).toBe('postgresql://face:pw@postgres:5432/face');
      expect(() => loadConfig({ SECRET_KEY_FILE: path.join(dir, 'missing') })).toThrow(/^Invalid SECRET_KEY_FILE: cannot read .*missing \(ENOENT\)$/);
      expect(() => loadConfig({ SECRET_KEY: key, SECRET_KEY_FILE: path.join(dir, 'secret_key') })).toThrow('Invalid SECRET_KEY_FILE: set either SECRET_KEY or SECRET_KEY_FILE, not both');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives the issuer from the port and strips a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER: 'https://id.example.com/' }).issuer).toBe('https://id.example.com');
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '3.5' }, 'PORT'],
    [{ ISSUER: 'not a url' }, 'ISSUER'],
    [{ ISSUER: 'https://id.example.com/?x=1' }, 'ISSUER'],
    [{ DATABASE_URL: 'mysql://localhost/x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgresql://localhost/x' }, 'SECRET_KEY'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ SECRET_KEY: 'abc' }, 'SECRET_KEY'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    // `true` said nothing about how many proxies there are: Koa then trusted the client's own left-most entry.
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '1.5' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '-1' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.300' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'proxy.example.com' }, 'TRUST_PROXY'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT'],
    [{ METRICS_HOST: '0.0.0.0' }, 'METRICS_HOST'],
    [{ FACE_MATCH_PRESET: 'far-1e-9' }, 'FACE_MATCH_PRESET'],
    [{ FACE_LIVENESS_THRESHOLD: '2' }, 'FACE_LIVENESS_THRESHOLD'],
    [{ FACE_FAILURE_DELAY_SECONDS: '5' }, 'FACE_FAILURE_DELAY_SECONDS'],
    [{ MODELS_DIR: '/nonexistent/models' }, 'MODELS_DIR'],
  ])('rejects %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message).toContain(variable);
    }
  });

  it('reads TRUST_PROXY as a number of hops or a list of proxy addresses and networks', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).proxy).toEqual({ kind: 'none' });
    expect(loadConfig({ TRUST_PROXY: '0' }).proxy).toEqual({ kind: 'none' });
    expect(loadConfig({ TRUST_PROXY: '2' }).proxy).toEqual({ kind: 'hops', hops: 2 });
    const listed = loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1, 2001:db8::/32' }).proxy;
    expect(listed).toMatchObject({ kind: 'addresses', addresses: ['10.0.0.1', '192.168.0.0/16', '::1', '2001:db8::/32'] });
  });

  it('serves metrics behind a token or on their own address', () => {
    const token = 'm'.repeat(32);
    expect(loadConfig({ METRICS_TOKEN: token }).metrics).toEqual({ token, port: null, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '10.1.2.3' }).metrics).toEqual({ token: null, port: 9100, host: '10.1.2.3' });
  });

  it('accepts a hex or base64 secret key of 32 bytes', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ SECRET_KEY: hex }).secretKey).toHaveLength(32);
    expect(loadConfig({ SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).secretKey).toHaveLength(32);
  });
});
