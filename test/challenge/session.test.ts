import { describe, expect, it } from 'vitest';
import {
  ChallengeSession,
  DEFAULT_LIFETIME_MS,
  DEFAULT_RULES,
  MAX_LIFETIME_MS,
  MOVEMENTS,
  drawChallenge,
  parseMovements,
  type FramePurpose,
} from '../../src/challenge/index.js';
import { FaceError, type Analysis, type DetectedFace } from '../../src/face/index.js';
import { answer, embedding, type Frame } from './synthetic.js';

describe('drawChallenge', () => {
  it('draws 2–3 movements, never the same twice in a row, each movement at every position', () => {
    const seen = new Set<string>();
    const lengths = new Set<number>();
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const c = drawChallenge({ now: 5000 });
      lengths.add(c.movements.length);
      ids.add(c.id);
      c.movements.forEach((m, k) => {
        expect(MOVEMENTS).toContain(m);
        if (k > 0) expect(m).not.toBe(c.movements[k - 1]);
        seen.add(`${k}:${m}`);
      });
      expect(c).toMatchObject({ createdAt: 5000, expiresAt: 5000 + DEFAULT_LIFETIME_MS });
      expect(c.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    expect([...lengths].sort()).toEqual([2, 3]);
    expect(seen.size).toBe(12);
    expect(ids.size).toBe(2000);
  });

  it('keeps the lifetime within 60 s and the length at 2 or 3', () => {
    expect(drawChallenge({ lifetimeMs: MAX_LIFETIME_MS, length: 3, now: 0 })).toMatchObject({ expiresAt: 60_000 });
    expect(drawChallenge({ length: 2 }).movements).toHaveLength(2);
    expect(() => drawChallenge({ lifetimeMs: MAX_LIFETIME_MS + 1 })).toThrow(RangeError);
    expect(() => drawChallenge({ lifetimeMs: 0 })).toThrow(RangeError);
    expect(() => drawChallenge({ length: 4 as 3 })).toThrow(RangeError);
  });

  it('parses presented challenges', () => {
    expect(parseMovements('left, Right,up')).toEqual(['left', 'right', 'up']);
    expect(() => parseMovements('left,left')).toThrow(/twice in a row/);
    expect(() => parseMovements('blink')).toThrow(/left, right, up, down/);
    expect(() => parseMovements('')).toThrow(RangeError);
  });
});

/**
 * An analyzer over synthetic frames: image bytes are the frame's index; it records the purposes it was asked for,
 * and the detections it was given (a frame's box carries its index).
 */
function fakeEngine(frames: Frame[]) {
  const calls: [number, FramePurpose][] = [];
  const given: [number, DetectedFace[] | undefined][] = [];
  const analyze = async (image: Uint8Array, purpose: FramePurpose, detections?: DetectedFace[]): Promise<Analysis> => {
    if (image[0] === 0xff) throw new FaceError('UNSUPPORTED_IMAGE', 'The image could not be read');
    const i = image[0];
    calls.push([i, purpose]);
    given.push([i, detections]);
    await new Promise((r) => setTimeout(r, (7 * i) % 5));
    const f = frames[i];
    const lm = f.landmarks;
    return {
      width: 640,
      height: 480,
      faces: lm ? [{ box: { x: 200 + i, y: 150, width: 240, height: 240 }, score: 0.99 }] : [],
      face: lm ? { box: { x: 200, y: 150, width: 240, height: 240 }, score: 0.99, landmarks68: lm.map((p) => [p[0], p[1]]), landmarks5: [], fingerprint: (0x9e3779b97f4a7c15n * BigInt(i + 1)).toString(16).slice(-16).padStart(16, '0'), pose: purpose === 'locate' ? null : { yaw: f.yaw, pitch: f.pitch, roll: 0 } } : null,
      quality: { ok: Boolean(lm), issues: [], metrics: { otherFaces: 0 } },
      embedding: lm && purpose !== 'locate' ? embedding(0) : null,
      liveness: lm && purpose === 'verify' ? { score: 0.95, live: true } : null,
      modelId: 'test',
      timings: { total: purpose === 'verify' ? 25 : purpose === 'turn' ? 20 : 5 },
    };
  };
  return { analyze, calls, given };
}

const frameBytes = (i: number) => new Uint8Array([i, 1, 2, 3]);

describe('ChallengeSession', () => {
  it("embeds the baseline, only locates later frames, and analyses again only frames that may decide: 'verify' only near the end", async () => {
    const frames = answer(['left', 'right']);
    const engine = fakeEngine(frames);
    const c = { id: 'c', movements: parseMovements('left,right'), createdAt: 0, expiresAt: 45_000 };
    const session = ChallengeSession.start(c, { analyze: engine.analyze, livenessThreshold: 0.7 });
    const steps: string[] = [];
    const evidence: number[] = [];
    for (let i = 0; i < frames.length && !session.finished; i++) {
      const r = await session.push(frameBytes(i), i * 167);
      expect(r).toMatchObject({ accepted: true, refusal: null });
      steps.push(r.progress.step);
      if (r.evidence) evidence.push(i);
    }
    const d = session.finish(frames.length * 167);
    expect(d.passed).toBe(true);
    expect(evidence).toEqual(d.evidence);
    // The baseline with pose and embedding ('turn'), every later frame located first; analysed again only where the
    // landmarks say a frame may decide, which includes every frame the decision rests on: 'turn' for a movement's
    // target, 'verify' (with liveness) only for the final looks.
    const seen = new Set<number>();
    const first: string[] = [];
    const again: [number, FramePurpose][] = [];
    for (const [i, p] of engine.calls) {
      if (seen.has(i)) again.push([i, p]);
      else first.push(`${i}:${p}`);
      seen.add(i);
    }
    expect(first).toEqual(frames.slice(0, d.frames).map((_, i) => `${i}:${i === 0 ? 'turn' : 'locate'}`));
    expect([0, ...again.map(([i]) => i)]).toEqual(expect.arrayContaining(d.evidence));
    const verified = again.filter(([, p]) => p === 'verify').map(([i]) => i);
    expect(verified).toEqual(d.evidence.slice(-DEFAULT_RULES.finalFrames));
    const turned = again.filter(([, p]) => p === 'turn').length;
    // A frame analysed again is not detected again: its first analysis's faces go with it.
    const seenFaces = new Set<number>();
    for (const [i, detections] of engine.given) {
      expect(detections, `frame ${i}`).toEqual(seenFaces.has(i) ? [expect.objectContaining({ box: expect.objectContaining({ x: 200 + i }) })] : undefined);
      seenFaces.add(i);
    }
    expect(d.analysed).toEqual({ turn: 1 + turned, locate: d.frames - 1, verify: verified.length });
    expect(again.length).toBeLessThan(d.frames / 2);
    expect(d.cpuMs).toBeGreaterThanOrEqual((1 + turned) * 20 + (d.frames - 1) * 5 + verified.length * 25);
    expect(steps.at(-1)).toBe('done');
  });

  it('judges concurrent pushes in order, refuses too-fast frames without analysing them, and survives engine errors', async () => {
    const frames = answer(['left', 'right']);
    const engine = fakeEngine(frames);
    const c = { id: 'c', movements: parseMovements('left,right'), createdAt: 0, expiresAt: 45_000 };
    const session = ChallengeSession.start(c, { analyze: engine.analyze, livenessThreshold: 0.7 });
    const results = await Promise.all(frames.slice(0, 6).map((_, i) => session.push(frameBytes(i), i * 167)));
    expect(results.map((r) => r.accepted)).toEqual([true, true, true, true, true, true]);
    expect([...new Set(engine.calls.map(([i]) => i))]).toEqual([0, 1, 2, 3, 4, 5]);

    const analysed = engine.calls.length;
    const fast = await session.push(frameBytes(6), 5 * 167 + 10);
    expect(fast).toMatchObject({ accepted: false, refusal: 'TOO_FAST', evidence: false });
    expect(engine.calls).toHaveLength(analysed);

    const before = JSON.stringify(session.toJSON());
    await expect(session.push(new Uint8Array([0xff]), 6 * 167)).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE' });
    expect(JSON.stringify(session.toJSON())).toBe(before);

    // The rest of the challenge continues on another instance from the stored state.
    const resumed = ChallengeSession.resume(JSON.parse(JSON.stringify(session.toJSON())), { analyze: engine.analyze, livenessThreshold: 0.7 });
    for (let i = 6; i < frames.length && !resumed.finished; i++) await resumed.push(frameBytes(i), i * 167);
    expect(resumed.finish(frames.length * 167)).toMatchObject({ passed: true, completed: ['left', 'right'] });
    const after = await resumed.push(frameBytes(40), 20_000);
    expect(after).toMatchObject({ accepted: false, refusal: 'CHALLENGE_FINISHED', progress: { status: 'passed', step: 'done' } });
  });
});
