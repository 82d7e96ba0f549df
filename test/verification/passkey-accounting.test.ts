import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSettings, type Settings } from '../../src/settings/index.js';
import { memoryKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { AttemptAccounting, IP_POLICY } from '../../src/verification/index.js';
import { loadConfig } from '../../src/config/index.js';

/** Passkey attempts in the shared accounting: a factor of their own, per address until the key names an account. */
describe('passkey attempt accounting', () => {
  let kv: KeyValueStore;
  let accounting: AttemptAccounting;
  const settings: Settings = { ...defaultSettings(loadConfig({ MODELS_DIR: 'models' })), passwordFailuresBeforeDelay: 3 };
  const unknown = { kind: 'unknown' } as const;

  beforeEach(() => {
    kv = memoryKeyValueStore();
    accounting = new AttemptAccounting({ kv, settings: { get: async () => settings }, users: { lockFace: async () => {}, unlockFace: async () => {} } });
  });

  afterEach(() => kv.close());

  it('counts passkey failures per account with the password thresholds, apart from the face and password counters', async () => {
    for (let i = 0; i < 3; i++) {
      const start = await accounting.begin('passkey', { userId: 'kim', identifier: '' }, unknown, null);
      if (!start.allowed) throw new Error('refused too early');
      await start.attempt.failed();
    }
    expect(await accounting.check('passkey', { userId: 'kim', identifier: '' }, unknown)).toMatchObject({ allowed: false, retryAfter: settings.failureDelaySeconds });
    expect(await accounting.check('pwd', { userId: 'kim', identifier: '' }, unknown)).toEqual({ allowed: true });
    expect(await accounting.check('face', { userId: 'kim', identifier: '' }, unknown)).toEqual({ allowed: true });
    expect((await accounting.throttling('kim')).map((t) => t.factor)).toEqual(['passkey']);
    await accounting.forget('kim');
    expect(await accounting.throttling('kim')).toEqual([]);
  });

  it('holds attempts without an email to the address budget, and gives back the ones that succeeded', async () => {
    for (let i = 0; i < IP_POLICY.failuresBeforeDelay; i++) {
      const start = await accounting.beginByAddress('203.0.113.7');
      if (!start.allowed) throw new Error(`refused after ${i}`);
      // Every other attempt succeeds: only the failures stay counted.
      if (i % 2) await start.attempt.succeeded();
      else await start.attempt.failed();
    }
    expect((await accounting.beginByAddress('203.0.113.7')).allowed).toBe(true);
    let refusedAfter = 0;
    for (; refusedAfter <= IP_POLICY.failuresBeforeDelay; refusedAfter++) {
      const start = await accounting.beginByAddress('203.0.113.7');
      if (!start.allowed) break;
      await start.attempt.failed();
    }
    expect(refusedAfter).toBeLessThan(IP_POLICY.failuresBeforeDelay);
    expect((await accounting.beginByAddress('198.51.100.1')).allowed).toBe(true);
  });

  it('attributes an outcome to the account the key named', async () => {
    for (let i = 0; i < 3; i++) await accounting.attribute('passkey', 'kim', unknown, 'failed');
    expect(await accounting.attribute('passkey', 'kim', unknown, 'succeeded')).toMatchObject({ allowed: false });
    expect(await accounting.attribute('passkey', 'lee', unknown, 'succeeded')).toMatchObject({ allowed: true });
  });
});
