import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/settings/index.js';
import { loadConfig } from '../../src/config/index.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { AttemptAccounting, type AttemptTicket } from '../../src/verification/index.js';

/** An attempt that spans requests (a challenge's frames): reserved once, settled later from its ticket. */
describe('attempt tickets', () => {
  const make = () => {
    const kv = memoryKeyValueStore();
    const settings = defaultSettings(loadConfig({}));
    const locked: string[] = [];
    const accounting = new AttemptAccounting({ kv, settings: { get: async () => settings }, users: { lockFace: async (id: string) => void locked.push(id), unlockFace: async () => {} } as never });
    return { kv, accounting, settings };
  };
  const subject = { userId: 'u1', identifier: 'a@example.com' };

  it('counts a reserved attempt once, whether it is settled from the object or from its stored ticket', async () => {
    const { accounting } = make();
    const start = await accounting.begin('face', subject, { kind: 'unknown' }, '203.0.113.0');
    if (!start.allowed) throw new Error('refused');
    // The ticket survives the shared store as JSON (another instance settles it).
    const ticket = JSON.parse(JSON.stringify(start.ticket)) as AttemptTicket;
    expect(await accounting.faceFailures('u1')).toBe(1);
    const outcome = await accounting.resume(ticket).failed();
    expect(outcome).toMatchObject({ failures: 1, locked: false });
    expect(await accounting.faceFailures('u1')).toBe(1);
  });

  it('gives the reservation back when voided and forgets the failures when it succeeded', async () => {
    const { accounting } = make();
    const first = await accounting.begin('face', subject, { kind: 'unknown' }, null);
    if (!first.allowed) throw new Error('refused');
    await accounting.resume(first.ticket).voided();
    expect(await accounting.faceFailures('u1')).toBe(0);
    const second = await accounting.begin('face', subject, { kind: 'unknown' }, null);
    const third = await accounting.begin('face', subject, { kind: 'unknown' }, null);
    if (!second.allowed || !third.allowed) throw new Error('refused');
    await accounting.resume(second.ticket).failed();
    expect(await accounting.faceFailures('u1')).toBe(2);
    await accounting.resume(third.ticket).succeeded();
    expect(await accounting.faceFailures('u1')).toBe(0);
  });
});
