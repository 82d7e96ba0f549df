import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES as R } from '../../src/challenge/index.js';
import { atRest, cameBack, continuity, lookingStraight, mainlyAlong, movingInto, nearDuplicate, nodAngle, pacing, progress, strayMovement, travelFrames, type Delta, type TrackPoint } from '../../src/challenge/checks.js';
import { mouthDrop, noseOffset } from '../../src/challenge/geometry.js';
import { headView } from './synthetic.js';

const delta = (x: number, y: number): Delta => ({ x, y, yaw: 0, pitch: 0, ex: 0, ey: 0, nod: 0 });

// One rule, one test: each check of src/challenge/checks.ts alone.
describe('challenge checks', () => {
  it('pacing: a pause after the answer longer than the limit restarts the movement; a stopped camera ends it', () => {
    expect(pacing(150, R)).toBe('steady');
    expect(pacing(R.maxPauseMs, R)).toBe('steady');
    expect(pacing(R.maxPauseMs + 1, R)).toBe('restart');
    expect(pacing(R.maxFrameGapMs + 1, R)).toBe('broken');
  });

  it('continuity: a head turning fast moves the face less than a cut does, and a busier interval allows more', () => {
    const prev = { t: 0, x: 320, y: 240, size: 150 };
    expect(continuity(prev, { t: 150, x: 320 + 0.6 * 150, y: 240, size: 140 }, R).verdict).toBe('steady');
    expect(continuity(prev, { t: 150, x: 320 + 1.2 * 150, y: 240, size: 150 }, R).verdict).toBe('restart');
    expect(continuity(prev, { t: 150, x: 320 + 3 * 150, y: 240, size: 150 }, R).verdict).toBe('broken');
    // The same move after a longer interval is head motion.
    expect(continuity(prev, { t: 400, x: 320 + 1.2 * 150, y: 240, size: 150 }, R).verdict).toBe('steady');
    // A face that grows by three quarters at once is another framing.
    expect(continuity(prev, { t: 150, x: 320, y: 240, size: 260 }, R).verdict).toBe('broken');
  });

  it('stray movement: only a movement that clearly leads, reaches well past its target and is not the one asked for', () => {
    // A left turn of 48° drifts 19–30° in pitch: not an "up".
    expect(strayMovement(delta(0.4, -0.28), 'left', [], R)).toBeNull();
    // Asked "up", the person turns left in full.
    expect(strayMovement(delta(0.4, -0.02), 'up', [], R)).toBe('left');
    // A diagonal is nobody's stray, nor is a completed movement coming back, nor a glance below 1.5 × the target.
    expect(strayMovement(delta(0.3, -0.25), 'down', [], R)).toBeNull();
    expect(strayMovement(delta(0.4, 0), 'up', ['left'], R)).toBeNull();
    expect(strayMovement(delta(1.2 * R.sideOffset, 0), 'up', [], R)).toBeNull();
    // Once the movement asked for is half made, its way there is not judged: a right turn that starts with a strong
    // pitch drift (a turning recording of the evaluation set: x −0.11, y 0.21 two frames in) is a turn.
    expect(strayMovement(delta(0.4, -0.6 * R.verticalOffset), 'up', [], R)).toBeNull();
    expect(strayMovement(delta(-0.11, 0.21), 'right', [], R)).toBeNull();
  });

  it('moving into: further along the movement than the previous frame by more than landmark noise', () => {
    // A turn's pitch drift tailing off on the way back (a turning recording: y −0.25, then −0.18) is not moving up.
    expect(movingInto('up', delta(-0.2, -0.25), delta(-0.12, -0.18), R)).toBe(false);
    // Nor is a pose held with the jitter of re-rendered frames (0.005 of offset).
    expect(movingInto('up', delta(0.13, -0.15), delta(0.13, -0.155), R)).toBe(false);
    // A nod up from rest is, one frame at 6 frames a second in.
    expect(movingInto('up', delta(0, -0.02), delta(0, -0.12), R)).toBe(true);
  });

  it('travel: frames between rest and peak count, out and back, each picture once; a jump between posed pictures has none', () => {
    // Distinct pictures: far-apart hashes.
    const pts = (...ps: number[]) => ps.map((p, i) => ({ p, dhash: (0x9e3779b97f4a7c15n * BigInt(i + 1)).toString(16).slice(-16).padStart(16, '0') }));
    expect(travelFrames(pts(0, 0.5, 1.0, 1.6, 2.2, 2.5, 1.4, 0.3), R)).toEqual({ out: 3, back: 1 });
    expect(travelFrames(pts(0, 2.1, 2.1, 2.2, 2.0, 0), R)).toEqual({ out: 0, back: 0 });
    // The same intermediate picture sent three times (re-saved: hashes a bit apart) is one pose.
    const same = [{ p: 0, dhash: null }, ...['ffff0000ffff0000', 'ffff0000ffff0001', 'ffff0000ffff0003'].map((dhash) => ({ p: 1.0, dhash })), { p: 2, dhash: '0123456789abcdef' }];
    expect(travelFrames(same, R)).toEqual({ out: 1, back: 0 });
    // Pictures posed near the target (30°, 33°, 36°): the lowest may pass for the way out, nothing comes back.
    expect(travelFrames(pts(0, 1.75, 1.92, 2.1, 0), R)).toEqual({ out: 1, back: 0 });
    // A sweep from the other side: progress counts from the rest pose, not from the far side.
    expect(travelFrames(pts(-2.5, -1.2, 0.1, 1.3, 2.4), R)).toEqual({ out: 1, back: 0 });
    expect(progress('left', delta(R.sideOffset, 0), R)).toBeCloseTo(1, 6);
    expect(progress('up', delta(0, -R.verticalOffset), R)).toBeCloseTo(1, 6);
  });

  it('nod angle: read from the foreshortening of eyes to mouth, either way, where a nod down\'s nose offset levels off', () => {
    const rest = headView();
    const angle = (pitch: number) => nodAngle(mouthDrop(headView({ pitch })), mouthDrop(rest));
    // Within a few degrees (the mouth sits a little behind the eyes), and growing all the way down.
    for (const pitch of [-50, -40, -25, 25, 40]) expect(Math.abs(angle(pitch) - Math.abs(pitch))).toBeLessThan(7);
    // Down from 35° to 50° the nose offset gains less than a tenth of its change; the angle tells the two apart.
    const down = (pitch: number) => noseOffset(headView({ pitch })).y - noseOffset(rest).y;
    expect(down(-50) / down(-35)).toBeLessThan(1.1);
    expect(angle(-50) - angle(-35)).toBeGreaterThan(10);
  });

  it('travel of a nod: frames well short of the peak angle count where the nose offset has levelled off; pictures posed close together do not', () => {
    const hash = (i: number) => (0x9e3779b97f4a7c15n * BigInt(i + 1)).toString(16).slice(-16).padStart(16, '0');
    const nod = (...f: [number, number][]): TrackPoint[] => [{ p: 0, dhash: null }, ...f.map(([p, a], i) => ({ p, nod: a, dhash: hash(i) }))];
    // A nod down to 50° at 6 frames/s, as the synthetic head gives it: 25°, 43°, 50°, 43°, 25°.
    const fast = nod([2.41, 25], [2.62, 43], [2.77, 50], [2.68, 43], [2.45, 25]);
    expect(travelFrames(fast, R)).toEqual({ out: 1, back: 1 });
    expect(travelFrames(fast.map(({ nod: _nod, ...t }) => t), R)).toEqual({ out: 0, back: 0 });
    // Three pictures posed for the nod (31°, 34°, 37°), frontal between: none lies far enough below the others.
    expect(travelFrames(nod([2.55, 31], [2.7, 34], [2.8, 37], [0.05, 2]), R)).toEqual({ out: 0, back: 0 });
  });

  it('at rest: near, not exactly at, the rest pose in landmarks and, when known, in fr_pose', () => {
    expect(atRest(delta(0.05, -0.08), R)).toBe(true);
    // A loose return: 10° of pitch above the start (0.17–0.19 of nose offset, as in the turning recordings).
    expect(atRest(delta(0.11, -0.19), R)).toBe(true);
    expect(atRest(delta(0.3, 0), R)).toBe(false);
    expect(atRest(delta(0, 0.25), R)).toBe(false);
    expect(atRest({ ...delta(0.05, 0), yaw: 16, pitch: -9 }, R)).toBe(true);
    expect(atRest({ ...delta(0.05, 0), yaw: 25, pitch: 0 }, R)).toBe(false);
  });

  it('looking straight: the absolute nose offset along the eye line and, when known, the yaw within the start\'s bounds', () => {
    expect(lookingStraight(0.2, null, R)).toBe(true);
    expect(lookingStraight(-0.2, 10, R)).toBe(true);
    expect(lookingStraight(0.3, null, R)).toBe(false);
    expect(lookingStraight(0.1, 20, R)).toBe(false);
  });

  it('came back: the last movement at most half as far as it went, whatever the rest pose allows', () => {
    expect(cameBack(1.2, 2.6, R)).toBe(true);
    expect(cameBack(1.06, 1.14, R)).toBe(false);
    expect(cameBack(0, 1, R)).toBe(true);
  });

  it('mainly along: a turn whose pitch drift passes a nod target is no frame of the nod; a nod from a loose rest is', () => {
    // A left turn drifting down (x 0.38, y 0.17): past the nod's target, but a turn.
    expect(mainlyAlong('down', delta(0.38, 0.17), R)).toBe(false);
    expect(mainlyAlong('left', delta(0.38, 0.17), R)).toBe(true);
    // A nod while the head is still a little turned (0.19 from the rest pose) is a nod.
    expect(mainlyAlong('down', delta(-0.19, 0.18), R)).toBe(true);
    // The other way along the axis is not this movement.
    expect(mainlyAlong('up', delta(0, 0.2), R)).toBe(false);
  });

  it('near-duplicate: a picture within a few bits of one already counted', () => {
    expect(nearDuplicate('ffff0000ffff0000', ['ffff0000ffff0003'])).toBe(true);
    expect(nearDuplicate('ffff0000ffff0000', ['0f0f0f0f0f0f0f0f'])).toBe(false);
    expect(nearDuplicate(null, ['ffff0000ffff0000'])).toBe(false);
  });
});
