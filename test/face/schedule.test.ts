import { describe, expect, it } from 'vitest';
import { FaceError, type Purpose } from '../../src/face/index.js';
import { Scheduler, ServiceTimes, type Admission } from '../../src/face/schedule.js';

/** A scheduler on a clock the test moves, whose analyses end when the test says so. */
function harness(opts: { size: number; maxQueue?: number; maxWaitMs?: number }) {
  let clock = 0;
  const s = new Scheduler({ size: opts.size, maxQueue: opts.maxQueue ?? 50, maxWaitMs: opts.maxWaitMs ?? 1000, now: () => clock });
  const started: string[] = [];
  const shared: Record<string, boolean> = {};
  const submit = (name: string, purpose: Purpose, admission?: Admission, { lane = 'trusted' as const, shareable = false } = {}) => {
    let finish!: () => void;
    let fail!: (err: Error) => void;
    const done = new Promise<string>((resolve, reject) => {
      finish = () => resolve(name);
      fail = reject;
    });
    const result = s.run(admission, purpose, lane, shareable, async (both) => {
      started.push(name);
      shared[name] = both;
      return done;
    });
    // Rejections are asserted where they matter; none may go unhandled meanwhile.
    result.catch(() => {});
    return { result, finish, fail };
  };
  return {
    s,
    started,
    shared,
    submit,
    advance: (ms: number) => (clock += ms),
    /** Lets dispatch (a microtask) and settled analyses run. */
    flush: () => new Promise((r) => setImmediate(r)),
  };
}

/** Times measured as a worker saw them: `ms` per analysis of each purpose. */
function measured(s: Scheduler, ms: Partial<Record<Purpose, number>>): void {
  for (const [purpose, v] of Object.entries(ms)) s.times.record(purpose as Purpose, v);
}

describe('service times', () => {
  it('starts from a prior, judges an unmeasured purpose by the slowest measured one, and believes a slowdown at once', () => {
    const t = new ServiceTimes();
    expect(t.get('verify')).toBe(100);
    t.record('locate', 10);
    t.record('verify', 40);
    expect(t.get('locate')).toBe(10);
    expect(t.get('enroll')).toBe(40);
    // Slower: half of the difference at once; faster: a tenth of it.
    t.record('verify', 120);
    expect(t.get('verify')).toBe(80);
    t.record('verify', 0);
    expect(t.get('verify')).toBe(72);
  });
});

describe('admission by expected wait', () => {
  it('counts every analysis of a request: a match waits for its last one', () => {
    const { s } = harness({ size: 2, maxWaitMs: 250 });
    measured(s, { verify: 100, enroll: 100 });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push(s.expectedWaitMs(['verify', 'enroll']));
      s.admit(['verify', 'enroll']);
    }
    // Two workers: each request's pair starts together, 100 ms after the pair before it.
    expect(waits).toEqual([0, 100, 200]);
    expect(() => s.admit(['verify', 'enroll'])).toThrow(expect.objectContaining({ code: 'OVERLOADED', retryAfter: 1 }));
  });

  it('judges each analysis by its purpose: cheap frames are not costed as verifications', () => {
    const { s } = harness({ size: 1, maxWaitMs: 100 });
    measured(s, { verify: 80, locate: 10 });
    for (let i = 0; i < 9; i++) s.admit(['locate']);
    expect(s.expectedWaitMs(['verify'])).toBe(90);
    s.admit(['verify']);
    expect(() => s.admit(['locate'])).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
  });

  it('gives Retry-After as the expected wait in whole seconds', () => {
    const { s } = harness({ size: 1, maxWaitMs: 1000 });
    measured(s, { verify: 900 });
    s.admit(['verify', 'verify']);
    expect(() => s.admit(['verify'])).toThrow(expect.objectContaining({ code: 'OVERLOADED', retryAfter: 2 }));
  });

  it('keeps a reservation counted until it runs or is released, and runs it ahead of requests admitted later', async () => {
    const h = harness({ size: 1, maxWaitMs: 1000 });
    measured(h.s, { verify: 100, match: 100 });
    // A match with a document: its portrait is analysed only after the MRZ is read.
    const a = h.s.admit(['verify', 'match']);
    const selfie = h.submit('a-selfie', 'verify', a);
    await h.flush();
    expect(h.s.expectedWaitMs(['verify'])).toBe(200);
    const b = h.s.admit(['verify']);
    const bSelfie = h.submit('b-selfie', 'verify', b);
    const portrait = h.submit('a-portrait', 'match', a);
    h.advance(100);
    selfie.finish();
    await h.flush();
    expect(h.started).toEqual(['a-selfie', 'a-portrait']);
    h.advance(100);
    portrait.finish();
    await h.flush();
    h.advance(100);
    bSelfie.finish();
    await expect(Promise.all([selfie.result, portrait.result, bSelfie.result])).resolves.toHaveLength(3);
    // Released: nothing left to wait for.
    const c = h.s.admit(['verify', 'enroll']);
    expect(h.s.expectedWaitMs(['verify'])).toBe(200);
    c.release();
    expect(h.s.expectedWaitMs(['verify'])).toBe(0);
  });

  it('lets a client use what the others do not ask for', () => {
    const { s } = harness({ size: 2, maxWaitMs: 900 });
    measured(s, { verify: 100, enroll: 100 });
    // c holds one pair and wants no more; a, refused by no one, may fill the rest of what starts within the bound:
    // 2 workers × (1 + 900 / 100) = 20 analyses.
    s.admit(['verify', 'enroll'], { tenant: 'c' });
    for (let i = 0; i < 9; i++) s.admit(['verify', 'enroll'], { tenant: 'a' });
    expect(() => s.admit(['verify', 'enroll'], { tenant: 'a' })).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    expect(() => s.admit(['verify', 'enroll'], { tenant: 'b' })).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
  });

  it('shares the engine equally between clients that are being refused', () => {
    const { s } = harness({ size: 2, maxWaitMs: 900 });
    measured(s, { verify: 100, enroll: 100 });
    const full = s.admit(Array.from<Purpose>({ length: 20 }).fill('verify'));
    expect(() => s.admit(['verify', 'enroll'], { tenant: 'b' })).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    full.release();
    // b was refused a moment ago: a gets half of the 20 analyses that start within the bound, though more would.
    for (let i = 0; i < 5; i++) s.admit(['verify', 'enroll'], { tenant: 'a' });
    expect(s.expectedWaitMs(['verify', 'enroll'])).toBe(500);
    expect(() => s.admit(['verify', 'enroll'], { tenant: 'a' })).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    for (let i = 0; i < 5; i++) s.admit(['verify', 'enroll'], { tenant: 'b' });
  });

  it("extends an admission with what its request turns out to need: its own analyses are not work ahead of it", () => {
    const { s } = harness({ size: 1, maxWaitMs: 50 });
    measured(s, { verify: 100, enroll: 100 });
    const a = s.admit(['verify']);
    a.extend(['enroll']);
    expect(s.expectedWaitMs(['verify'])).toBe(200);
  });

  it('refuses an extension whole and keeps what the admission held', () => {
    const { s } = harness({ size: 1, maxQueue: 1, maxWaitMs: 60_000 });
    measured(s, { verify: 100, enroll: 100, match: 100 });
    const a = s.admit(['verify']);
    a.extend(['enroll']);
    expect(() => a.extend(['match'])).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    expect(a.reserved).toEqual(['verify', 'enroll']);
    expect(() => s.admit(['verify'])).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    a.release();
    expect(() => s.admit(['verify', 'enroll'])).not.toThrow();
  });

  it('refuses by count past size + maxQueue, and anonymous work past half of the queue', () => {
    const { s } = harness({ size: 1, maxQueue: 4, maxWaitMs: 60_000 });
    measured(s, { verify: 1 });
    s.admit(['verify', 'verify', 'verify'], { lane: 'anonymous' });
    expect(() => s.admit(['verify'], { lane: 'anonymous' })).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    s.admit(['verify', 'verify']);
    expect(() => s.admit(['verify'])).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
  });
});

describe('dispatch', () => {
  it('runs waiting analyses in admission order, as many at once as there are workers', async () => {
    const h = harness({ size: 2 });
    const runs = ['a', 'b', 'c', 'd', 'e'].map((n) => h.submit(n, 'verify'));
    await h.flush();
    expect(h.started).toEqual(['a', 'b']);
    expect(h.s.stats()).toEqual({ running: 2, queued: 3 });
    runs[1]!.finish();
    await h.flush();
    runs[0]!.finish();
    await h.flush();
    expect(h.started).toEqual(['a', 'b', 'c', 'd']);
    for (const r of runs.slice(2)) r.finish();
    await expect(Promise.all(runs.map((r) => r.result))).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(h.s.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('measures how long each purpose holds a worker, from hand-over to result, and not failed analyses', async () => {
    const h = harness({ size: 1 });
    const enroll = h.submit('e', 'enroll');
    await h.flush();
    h.advance(70);
    enroll.finish();
    await enroll.result;
    expect(h.s.times.get('enroll')).toBe(70);
    const broken = h.submit('x', 'enroll');
    await h.flush();
    h.advance(5);
    broken.fail(new FaceError('UNSUPPORTED_IMAGE', 'not an image'));
    await expect(broken.result).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE' });
    expect(h.s.times.get('enroll')).toBe(70);
  });

  it('drops an analysis that waited past the bound instead of running it, with the rest of its request', async () => {
    // Room for four analyses: the one running and the late request's three.
    const h = harness({ size: 1, maxQueue: 3, maxWaitMs: 500 });
    measured(h.s, { verify: 100, enroll: 100 });
    const first = h.submit('first', 'verify');
    const late = h.s.admit(['verify', 'enroll', 'match']);
    const selfie = h.submit('late-selfie', 'verify', late);
    await h.flush();
    h.advance(400);
    const reference = h.submit('late-reference', 'enroll', late);
    await h.flush();
    // The host slowed down: the running analysis takes 600 ms, past the selfie's deadline (not yet the reference's).
    h.advance(200);
    first.finish();
    await expect(selfie.result).rejects.toMatchObject({ code: 'OVERLOADED', status: 503 });
    await expect(reference.result).rejects.toMatchObject({ code: 'OVERLOADED' });
    expect(h.started).toEqual(['first']);
    // The request's later analyses are refused at once.
    await expect(h.submit('late-portrait', 'match', late).result).rejects.toMatchObject({ code: 'OVERLOADED' });
    // Everything given back: the worker is idle, a new request waits for nothing and may use the whole queue again.
    expect(h.s.stats()).toEqual({ running: 0, queued: 0 });
    expect(h.s.expectedWaitMs(['verify'])).toBe(0);
    measured(h.s, { locate: 1 });
    expect(() => h.s.admit(['locate', 'locate', 'locate', 'locate'])).not.toThrow();
  });

  it('refuses a waiting request as soon as the measured times say it cannot start in time, not when a worker frees up', async () => {
    const h = harness({ size: 1, maxWaitMs: 250 });
    measured(h.s, { verify: 100 });
    const [r1, r2, r3] = ['r1', 'r2', 'r3'].map((n) => h.submit(n, 'verify'));
    await h.flush();
    // r1 takes 200 ms instead of 100: verifications are now expected to take 150 ms.
    h.advance(200);
    r1!.finish();
    await h.flush();
    expect(h.s.times.get('verify')).toBe(150);
    // r2 starts after 200 ms of waiting; r3 has waited as long and would start 150 ms later, past the bound.
    await expect(r3!.result).rejects.toMatchObject({ code: 'OVERLOADED', retryAfter: 1 });
    expect(h.started).toEqual(['r1', 'r2']);
    expect(h.s.stats()).toEqual({ running: 1, queued: 0 });
    r2!.finish();
    await expect(r2!.result).resolves.toBe('r2');
  });

  it("does not count a request's own analyses as waiting: on one worker its second runs after its first", async () => {
    const h = harness({ size: 1, maxWaitMs: 100 });
    measured(h.s, { verify: 300, enroll: 300 });
    expect(h.s.expectedWaitMs(['verify', 'enroll'])).toBe(0);
    const pair = h.s.admit(['verify', 'enroll']);
    const selfie = h.submit('selfie', 'verify', pair);
    const reference = h.submit('reference', 'enroll', pair);
    await h.flush();
    h.advance(300);
    selfie.finish();
    await h.flush();
    h.advance(300);
    reference.finish();
    await expect(Promise.all([selfie.result, reference.result])).resolves.toEqual(['selfie', 'reference']);
    // Behind one analysis of another request, the pair waits for it: refused.
    const other = h.submit('other', 'verify');
    await h.flush();
    expect(h.s.expectedWaitMs(['verify', 'enroll'])).toBe(300);
    expect(() => h.s.admit(['verify', 'enroll'])).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    other.finish();
    await other.result;
  });

  it('runs an analysis that got its worker within the bound', async () => {
    const h = harness({ size: 1, maxWaitMs: 500 });
    const first = h.submit('first', 'verify');
    const second = h.submit('second', 'verify');
    await h.flush();
    h.advance(500);
    first.finish();
    await h.flush();
    second.finish();
    await expect(second.result).resolves.toBe('second');
  });

  it('shares a lone shareable analysis between two idle workers, never analyses submitted together', async () => {
    const h = harness({ size: 2 });
    const lone = h.submit('lone', 'verify', undefined, { shareable: true });
    await h.flush();
    expect(h.shared.lone).toBe(true);
    // It holds both workers.
    const next = h.submit('next', 'verify', undefined, { shareable: true });
    await h.flush();
    expect(h.started).toEqual(['lone']);
    lone.finish();
    await lone.result;
    next.finish();
    await next.result;
    const pair = [h.submit('p1', 'verify', undefined, { shareable: true }), h.submit('p2', 'enroll', undefined, { shareable: true })];
    await h.flush();
    expect([h.shared.p1, h.shared.p2]).toEqual([false, false]);
    for (const p of pair) p.finish();
    await Promise.all(pair.map((p) => p.result));
  });
});
