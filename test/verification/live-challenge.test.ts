import { describe, expect, it } from 'vitest';
import type { Challenge } from '../../src/challenge/index.js';
import { loadConfig } from '../../src/config/index.js';
import { FaceError, type Analysis } from '../../src/face/index.js';
import { defaultSettings } from '../../src/settings/index.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { AttemptAccounting, type ChallengeEvent, ChallengeRefusal, LiveChallenges } from '../../src/verification/index.js';

/** A frame without a face: the challenge waits for its baseline. */
const noFace = { face: null, quality: { ok: false, issues: [], metrics: {} }, embedding: null, liveness: null, timings: {} } as unknown as Analysis;
const frame = (n: number) => Buffer.from(`frame-${n}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(opts: { lifetimeMs?: number; threshold?: () => number } = {}) {
  const kv = memoryKeyValueStore();
  const settings = defaultSettings(loadConfig({}));
  const attempts = new AttemptAccounting({ kv, settings: { get: async () => settings }, users: { lockFace: async () => {}, unlockFace: async () => {} } as never });
  let gate: Promise<void> = Promise.resolve();
  const events: ChallengeEvent[] = [];
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
      livenessThreshold: async () => (opts.threshold ?? (() => 0.7))(),
      compare: () => ({ similarity: 0, match: false }) as never,
      screenReplay: async () => false,
      record: async (e) => void events.push(e),
      draw,
    });
  const who = { subject: { userId: 'u1', identifier: 'a@example.com' }, origin: { kind: 'unknown' as const }, ip: null, templates: async () => [] };
  return {
    kv,
    attempts,
    events,
    owner: { subject: who.subject, surface: 'signin' as const },
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
    const challenge = await s.a.start('uid1', s.owner);
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
    const challenge = await s.a.start('uid2', s.owner);
    s.failNextAnalysis();
    await expect(s.a.frame('uid2', challenge.id, frame(1), Date.now(), s.who)).rejects.toBeInstanceOf(FaceError);
    expect(await s.attempts.faceFailures('u1')).toBe(0);
    expect(await s.a.frame('uid2', challenge.id, frame(1), Date.now(), s.who)).toMatchObject({ status: 'in_progress' });
  });

  it('is single use: a failed challenge counts one failure and refuses every later frame', async () => {
    const s = setup();
    const challenge = await s.a.start('uid3', s.owner);
    await s.a.frame('uid3', challenge.id, frame(1), Date.now(), s.who);
    await sleep(120);
    // The same bytes as the frame before: a stalled camera, skipped without a judgement.
    await expect(s.a.frame('uid3', challenge.id, frame(1), Date.now(), s.who)).rejects.toMatchObject({ code: 'FRAME_STALLED' });
    await s.a.frame('uid3', challenge.id, frame(2), Date.now(), s.who);
    await sleep(120);
    // An earlier frame again (a loop of pictures): fails the challenge.
    const failed = await s.a.frame('uid3', challenge.id, frame(1), Date.now(), s.who);
    expect(failed).toMatchObject({ status: 'failed', code: 'REPEATED_FRAME', outcome: { failures: 1 } });
    await sleep(120);
    await expect(s.a.frame('uid3', challenge.id, frame(3), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_FINISHED' });
    await expect(s.a.frame('uid3', 'other', frame(2), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_MISMATCH' });
    expect(await s.attempts.faceFailures('u1')).toBe(1);
  });

  it('refuses an expired challenge that never started without counting, and a frame too soon after another', async () => {
    const s = setup({ lifetimeMs: 50 });
    const challenge = await s.a.start('uid4', s.owner);
    await sleep(80);
    const refused = await s.a.frame('uid4', challenge.id, frame(1), Date.now(), s.who).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChallengeRefusal);
    expect(refused).toMatchObject({ code: 'CHALLENGE_EXPIRED', status: 410 });
    expect(await s.attempts.faceFailures('u1')).toBe(0);

    const t = setup();
    const c = await t.a.start('uid5', t.owner);
    await t.a.frame('uid5', c.id, frame(1), Date.now(), t.who);
    await expect(t.a.frame('uid5', c.id, frame(2), Date.now(), t.who)).rejects.toMatchObject({ code: 'FRAME_TOO_FAST', status: 429 });
  });

  it('ends a challenge answered by another identifier, charged to the account it was drawn for', async () => {
    const s = setup();
    const other = { ...s.who, subject: { userId: 'u2', identifier: 'b@example.com' } };
    const challenge = await s.a.start('uid6', s.owner);
    // Before any frame nothing was compared: refused, not counted.
    await expect(s.a.frame('uid6', challenge.id, frame(1), Date.now(), other)).rejects.toMatchObject({ code: 'IDENTIFIER_CHANGED', status: 409 });
    expect(await s.attempts.faceFailures('u2')).toBe(0);

    const again = await s.a.start('uid6', s.owner);
    await s.a.frame('uid6', again.id, frame(1), Date.now(), s.who);
    await sleep(120);
    const ended = await s.b.frame('uid6', again.id, frame(2), Date.now(), other);
    expect(ended).toMatchObject({ status: 'failed', code: 'IDENTIFIER_CHANGED', owner: { userId: 'u1' }, outcome: { failures: 1 } });
    expect([await s.attempts.faceFailures('u1'), await s.attempts.faceFailures('u2')]).toEqual([1, 0]);
    await sleep(120);
    await expect(s.a.frame('uid6', again.id, frame(3), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_FINISHED' });
    expect(s.events).toEqual([
      { kind: 'started', surface: 'signin' },
      { kind: 'refused', surface: 'signin', reason: 'IDENTIFIER_CHANGED', firstRefusal: true },
    ]);
  });

  it('discards a judgement of a challenge replaced meanwhile: it neither comes back nor counts', async () => {
    const s = setup();
    const first = await s.a.start('uid7', s.owner);
    const open = s.hold();
    const inFlight = s.a.frame('uid7', first.id, frame(1), Date.now(), s.who);
    await sleep(20);
    // Drawn on the other instance while the first frame is in the engine.
    const second = await s.b.start('uid7', s.owner);
    open();
    await expect(inFlight).rejects.toMatchObject({ code: 'CHALLENGE_MISMATCH' });
    // Its fresh reservation was given back, and the store holds the new challenge.
    expect(await s.attempts.faceFailures('u1')).toBe(0);
    expect(await s.a.frame('uid7', second.id, frame(2), Date.now(), s.who)).toMatchObject({ status: 'in_progress' });
    await expect(s.a.frame('uid7', first.id, frame(3), Date.now(), s.who)).rejects.toMatchObject({ code: 'CHALLENGE_MISMATCH' });
  });

  it('lands one of two judgements of the same state even when the lock was lost', async () => {
    const s = setup();
    const challenge = await s.a.start('uid8', s.owner);
    const open = s.hold();
    const one = s.a.frame('uid8', challenge.id, frame(1), Date.now(), s.who);
    await sleep(20);
    // The lock's lease ran out (an instance stalled): the other instance judges from the same stored state.
    await s.kv.del(`challenge-lock:uid8:${challenge.id}`);
    const two = s.b.frame('uid8', challenge.id, frame(2), Date.now(), s.who);
    await sleep(20);
    open();
    const results = await Promise.allSettled([one, two]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'CHALLENGE_MISMATCH' });
    // One attempt for one challenge: the loser's reservation was given back.
    expect(await s.attempts.faceFailures('u1')).toBe(1);
  });

  it('applies the liveness threshold in force when each challenge is drawn', async () => {
    let threshold = 0.7;
    const s = setup({ threshold: () => threshold });
    const stored = async () => (JSON.parse((await s.kv.get('challenge:uid9'))!) as { livenessThreshold: number }).livenessThreshold;
    await s.a.start('uid9', s.owner);
    expect(await stored()).toBe(0.7);
    threshold = 0.95;
    await s.b.start('uid9', s.owner);
    expect(await stored()).toBe(0.95);
  });

  it('counts a sitting\'s first refusal once; a later refusal of the same person is a retry', async () => {
    const s = setup();
    for (const n of [1, 2]) {
      const c = await s.a.start('uid10', s.owner);
      await s.a.frame('uid10', c.id, frame(10 * n), Date.now(), s.who);
      await sleep(120);
      await s.a.frame('uid10', c.id, frame(10 * n + 1), Date.now(), s.who);
      await sleep(120);
      expect(await s.a.frame('uid10', c.id, frame(10 * n), Date.now(), s.who)).toMatchObject({ status: 'failed', code: 'REPEATED_FRAME' });
    }
    expect(s.events.filter((e) => e.kind === 'refused')).toEqual([
      { kind: 'refused', surface: 'signin', reason: 'REPEATED_FRAME', firstRefusal: true },
      { kind: 'refused', surface: 'signin', reason: 'REPEATED_FRAME', firstRefusal: false },
    ]);
    expect(s.events.filter((e) => e.kind === 'started')).toHaveLength(2);
  });
});
