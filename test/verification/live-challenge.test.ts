import { describe, expect, it } from 'vitest';
import type { Challenge } from '../../src/challenge/index.js';
import { loadConfig } from '../../src/config/index.js';
import { FaceError, type Analysis } from '../../src/face/index.js';
import { defaultSettings } from '../../src/settings/index.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { AttemptAccounting, ChallengeRefusal, LiveChallenges } from '../../src/verification/index.js';

/** A frame without a face: the challenge waits for its baseline. */
const noFace = { face: null, quality: { ok: false, issues: [], metrics: {} }, embedding: null, liveness: null, timings: {} } as unknown as Analysis;
const frame = (n: number) => Buffer.from(`frame-${n}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(opts: { lifetimeMs?: number } = {}) {
  const kv = memoryKeyValueStore();
  const settings = defaultSettings(loadConfig({}));
  const attempts = new AttemptAccounting({ kv, settings: { get: async () => settings }, users: { lockFace: async () => {}, unlockFace: async () => {} } as never });
  let gate: Promise<void> = Promise.resolve();
  let failNext = false;
  const draw = (): Challenge => ({ id: `c${Math.random()}`, movements: ['up', 'right'], createdAt: Date.now(), expiresAt: Date.now() + (opts.lifetimeMs ?? 30_000) });
  const instance = () =>
    new LiveChallenges({
      kv,
      attempts,
      analyze: async () => {
        await gate;
        if (failNext) {
          failNext = false;
          throw new FaceError('OVERLOADED', 'busy');
        }
        return noFace;
      },
      livenessThreshold: 0.7,
      compare: () => ({ similarity: 0, match: false }) as never,
      screenReplay: async () => false,
      draw,
    });
  const who = { subject: { userId: 'u1', identifier: 'a@example.com' }, origin: { kind: 'unknown' as const }, ip: null, templates: async () => [] };
  return {
    kv,
    attempts,
    a: instance(),
    b: instance(),
    who,
    hold: () => {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return open;
    },
    failNextAnalysis: () => (failNext = true),
  };
}

describe('live challenges', () => {
  it('judges one frame of a challenge at a time, across instances sharing the store', async () => {
    const s = setup();
    const challenge = await s.a.start('uid1');
    const open = s.hold();
    const first = s.a.frame('uid1', challenge.id, frame(1), Date.now(), s.who);
    await sleep(20);
    await expect(s.b.frame('uid1', challenge.id, frame(2), Date.now(), s.who)).rejects.toMatchObject({ code: 'FRAME_IN_PROGRESS', status: 409 });
    open();
    expect(await first).toMatchObject({ status: 'in_progress', total: 2 });
    await sleep(120);
    // The other instance goes on from the stored state; the attempt was reserved once, at the first frame.
    expect(await s.b.frame('uid1', challenge.id, frame(3), Date.now(), s.who)).toMatchObject({ status: 'in_progress' });
    expect(await s.attempts.faceFailures('u1')).toBe(1);
  });

  it('gives the reservation back when the first frame cannot be analysed, and the frame can be sent again', async () => {
    const s = setup();
    const challenge = await s.a.start('uid2');
    s.failNextAnalysis();
    await expect(s.a.frame('uid2', challenge.id, frame(1), Date.now(), s.who)).rejects.toBeInstanceOf(FaceError);
    expect(await s.attempts.faceFailures('u1')).toBe(0);
    expect(await s.a.frame('uid2', challenge.id, frame(1), Date.now(), s.who)).toMatchObject({ status: 'in_progress' });
  });

  it('is single use: a failed challenge counts one failure and refuses every later frame', async () => {
    const s = setup();
    const challenge = await s.a.start('uid3');
    await s.a.frame('uid3', challenge.id, frame(1), Date.now(), s.who);
    await sleep(120);
    // The same bytes again: a repeated frame fails the challenge.
    const failed = await s.a.frame('uid3', challenge.id, frame(1), Date.now(), s.who);
    expect(failed).toMatchObject({ status: 'failed', code: 'REPEATED_FRAME', outcome: { failures: 1 } });
    await sleep(120);
    await expect(s.a.frame('uid3', challenge.id, frame(2), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_FINISHED' });
    await expect(s.a.frame('uid3', 'other', frame(2), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_MISMATCH' });
    expect(await s.attempts.faceFailures('u1')).toBe(1);
  });

  it('refuses an expired challenge that never started without counting, and a frame too soon after another', async () => {
    const s = setup({ lifetimeMs: 50 });
    const challenge = await s.a.start('uid4');
    await sleep(80);
    const refused = await s.a.frame('uid4', challenge.id, frame(1), Date.now(), s.who).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChallengeRefusal);
    expect(refused).toMatchObject({ code: 'CHALLENGE_EXPIRED', status: 410 });
    expect(await s.attempts.faceFailures('u1')).toBe(0);

    const t = setup();
    const c = await t.a.start('uid5');
    await t.a.frame('uid5', c.id, frame(1), Date.now(), t.who);
    await expect(t.a.frame('uid5', c.id, frame(2), Date.now(), t.who)).rejects.toMatchObject({ code: 'FRAME_TOO_FAST', status: 429 });
  });
});
