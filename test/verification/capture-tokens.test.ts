import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaptureTokens } from '../../src/verification/capture-tokens.js';
import { memoryKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';

describe('capture tokens', () => {
  let kv: KeyValueStore;
  let tokens: CaptureTokens;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    kv = memoryKeyValueStore();
    tokens = new CaptureTokens(kv);
  });

  afterEach(async () => {
    await kv.close();
    vi.useRealTimers();
  });

  it('are single-use and bound to their interaction', async () => {
    const token = await tokens.issue('uid-1');
    expect(await tokens.consume(token, 'uid-2')).toBe(false);
    const other = await tokens.issue('uid-1');
    expect(await tokens.consume(other, 'uid-1')).toBe(true);
    expect(await tokens.consume(other, 'uid-1')).toBe(false);
    expect(await tokens.consume('', 'uid-1')).toBe(false);
    expect(await tokens.consume('a'.repeat(500), 'uid-1')).toBe(false);
  });

  it('are one live token per interaction: a newer one ends the older ones', async () => {
    const pages = await Promise.all(Array.from({ length: 5 }, () => tokens.issue('uid-1')));
    const latest = await tokens.issue('uid-1');
    const consumed = await Promise.all([...pages, latest].map((t) => tokens.consume(t, 'uid-1')));
    expect(consumed).toEqual([false, false, false, false, false, true]);
  });

  it('are reissued to a refused page only when no token is live, so a stale page never ends the live one', async () => {
    const live = await tokens.issue('uid-1');
    expect(await tokens.reissue('uid-1')).toBeNull();
    expect(await tokens.consume(live, 'uid-1')).toBe(true);
    const fresh = await tokens.reissue('uid-1');
    expect(fresh).toEqual(expect.any(String));
    expect(await tokens.consume(fresh!, 'uid-1')).toBe(true);
  });

  it('expire after two minutes', async () => {
    const token = await tokens.issue('uid-1');
    vi.advanceTimersByTime(121_000);
    expect(await tokens.consume(token, 'uid-1')).toBe(false);
  });
});
