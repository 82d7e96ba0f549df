// The challenge's rules, one function each (src/challenge/README.md, "The checks"): pure, state in and verdict out,
// so that each can be tested alone. The verifier (verifier.ts) chains them frame by frame.
import { hamming, NEAR_DUPLICATE_BITS } from '../face/index.js';
import { eyeFrame, faceSize, noseParallax, type Point } from './geometry.js';
import type { ChallengeRules } from './rules.js';
import type { Movement } from './types.js';

/**
 * Change from the rest pose: nose offset (x, y), fr_pose degrees, the eyes' shift on the outline (ex, ey), and the
 * nod read from the foreshortening of eyes to mouth (`nodAngle`, unsigned degrees).
 */
export interface Delta {
  x: number;
  y: number;
  yaw: number;
  pitch: number;
  ex: number;
  ey: number;
  nod: number;
}

const SIDEWAYS = new Set<Movement>(['left', 'right']);
export const isSideways = (m: Movement) => SIDEWAYS.has(m);

/** Signed change along a movement: nose offset ("left": towards the image's right), fr_pose degrees, eye shift. */
export function along(m: Movement, d: Delta): { offset: number; degrees: number; eyes: number } {
  switch (m) {
    case 'left':
      return { offset: d.x, degrees: -d.yaw, eyes: d.ex };
    case 'right':
      return { offset: -d.x, degrees: d.yaw, eyes: -d.ex };
    case 'up':
      return { offset: -d.y, degrees: d.pitch, eyes: -d.ey };
    case 'down':
      return { offset: d.y, degrees: -d.pitch, eyes: d.ey };
  }
}

export function targets(m: Movement, r: ChallengeRules): { offset: number; degrees: number } {
  return isSideways(m) ? { offset: r.sideOffset, degrees: r.sideDegrees } : { offset: r.verticalOffset, degrees: r.verticalDegrees };
}

/** How far along movement `m` a frame is, in units of its offset target (1 = the target; negative: the other way). */
export function progress(m: Movement, d: Pick<Delta, 'x' | 'y'>, r: ChallengeRules): number {
  return along(m, { ...d, yaw: 0, pitch: 0, ex: 0, ey: 0, nod: 0 }).offset / targets(m, r).offset;
}

/**
 * Pacing, on the server's clock: the client's pause is the time from the server's answer to the previous frame to
 * this frame's arrival (the page sends the next frame once it has the answer), so a busy server never counts against
 * the person. A long pause lets a script choose which frame lands next: the movement under way starts over.
 */
export function pacing(pauseMs: number, r: ChallengeRules): 'steady' | 'restart' | 'broken' {
  if (pauseMs > r.maxFrameGapMs) return 'broken';
  return pauseMs > r.maxPauseMs ? 'restart' : 'steady';
}

/** Where the face is in the image: eye centre and size (`faceSize`), pixels, at server time t. */
export interface FacePlace {
  t: number;
  x: number;
  y: number;
  size: number;
}

export function facePlace(t: number, lm: readonly Point[]): FacePlace {
  const f = eyeFrame(lm);
  return { t, x: f.centre[0], y: f.centre[1], size: faceSize(lm) };
}

/**
 * Continuity between consecutive face frames: the eyes move and the face's size changes no more than a moving head
 * explains in the time between them. A cut in a recording, or a picture swapped for another, moves or rescales the
 * face at once; a small excess restarts the movement, a cut to another framing fails the challenge.
 */
export function continuity(prev: FacePlace, next: FacePlace, r: ChallengeRules): { verdict: 'steady' | 'restart' | 'broken'; ratio: number } {
  const dt = Math.max(0, next.t - prev.t) / 1000;
  const move = Math.hypot(next.x - prev.x, next.y - prev.y) / Math.max(prev.size, next.size);
  const allowed = r.maxJump + r.maxJumpPerSecond * dt;
  const scale = Math.max(next.size / prev.size, prev.size / next.size);
  const allowedScale = r.maxScaleJump + 0.5 * dt;
  const ratio = Math.max(move / allowed, (scale - 1) / (allowedScale - 1));
  return { verdict: ratio <= 1 ? 'steady' : ratio <= r.brokenJumpFactor ? 'restart' : 'broken', ratio };
}

/**
 * The movement a frame clearly shows although it was not asked for: it reaches `wrongFactor` × its target while the
 * other axis is near rest (a turn's pitch drift, or a diagonal, is nobody's stray), and the movement asked for
 * (`current`) has made less than half its target. Completed movements may recur (a head still turned while it comes
 * back). Null when none.
 */
export function strayMovement(d: Delta, current: Movement | null, completed: readonly Movement[], r: ChallengeRules): Movement | null {
  if (current && progress(current, d, r) >= 0.5) return null;
  const candidates: Movement[] = Math.abs(d.y) <= r.frontalOffset ? ['left', 'right'] : Math.abs(d.x) <= r.frontalOffset ? ['up', 'down'] : [];
  return candidates.find((m) => m !== current && !completed.includes(m) && progress(m, d, r) >= r.wrongFactor) ?? null;
}

/**
 * Whether the head moved further along movement `m` since the previous frame, by more than landmark noise
 * (`strayRise`): coming back from a turn whose pitch drift lingers, or holding that pose, is not moving into a nod.
 */
export function movingInto(m: Movement, prev: Pick<Delta, 'x' | 'y'>, d: Pick<Delta, 'x' | 'y'>, r: ChallengeRules): boolean {
  return progress(m, d, r) - progress(m, prev, r) >= r.strayRise;
}

/**
 * Whether a frame moved mainly along movement `m`: its offset along `m` is at least what the offset across it has
 * beyond near rest (`frontalOffset`: people do not come back exactly between movements). A side turn drifts in
 * pitch by median 19° (up to 30°), enough to pass a nod's target on the way, while its offsets say it is a turn.
 */
export function mainlyAlong(m: Movement, d: Pick<Delta, 'x' | 'y'>, r: ChallengeRules): boolean {
  const across = isSideways(m) ? d.y : d.x;
  return along(m, { ...d, yaw: 0, pitch: 0, ex: 0, ey: 0, nod: 0 }).offset >= Math.abs(across) - r.frontalOffset;
}

/**
 * A nod's angle from the foreshortening of eyes to mouth (`mouthDrop` against the rest pose's): acos of their
 * ratio, degrees, either way. Too coarse near rest to decide anything alone (a 1 % change is 8°), it keeps growing
 * where a nod down's nose offset has levelled off.
 */
export function nodAngle(drop: number, restDrop: number): number {
  return (Math.acos(Math.max(-1, Math.min(1, drop / restDrop))) * 180) / Math.PI;
}

/** A frame of an attempt at a movement: its progress (target units), the face's dHash, and for nods `nodAngle`. */
export interface TrackPoint {
  p: number;
  dhash: string | null;
  nod?: number;
}

/**
 * Travel: the frames of an attempt that lie between the rest pose (0) and its peak, `travelMargin` of the span
 * inside both ends, counted on the way out (before the peak) and on the way back. For a nod, a frame that has left
 * the rest pose also counts when its `nodAngle` lies inside the span of those angles: the nose offset of a nod down
 * levels off past about 25°, so a nod to 50° shows its 25° and 43° frames near the peak in offset, not in angle.
 * A head moves through intermediate poses both ways; a script switching between posed pictures has none, a few
 * pictures posed near the target (30°, 33°, 36°) are all near the peak, and the one picture that lies lower cannot
 * serve twice: the same picture sent again (re-saved, shifted: a near-duplicate face) counts once.
 */
export function travelFrames(track: readonly TrackPoint[], r: ChallengeRules): { out: number; back: number } {
  if (track.length < 2) return { out: 0, back: 0 };
  let peakAt = 0;
  track.forEach((t, i) => {
    if (t.p > track[peakAt].p) peakAt = i;
  });
  const lo = r.travelMargin * track[peakAt].p;
  const hi = (1 - r.travelMargin) * track[peakAt].p;
  const nodPeak = Math.max(0, ...track.map((t) => t.nod ?? 0));
  const between = ({ p, nod }: TrackPoint) =>
    p > lo && (p < hi || (nod !== undefined && nod > r.travelMargin * nodPeak && nod <= r.nodTravelTop * nodPeak));
  const seen: string[] = [];
  const counts = { out: 0, back: 0 };
  track.forEach((t, i) => {
    const { dhash } = t;
    if (i === 0 || !between(t) || nearDuplicate(dhash, seen)) return;
    counts[i < peakAt ? 'out' : 'back']++;
    if (dhash) seen.push(dhash);
  });
  return counts;
}

/**
 * Three-dimensional consistency at a frame that reaches a target: the nose leaves the plane of the brows and eyes
 * (a flat picture fits one homography of the baseline's), and the eyes move across the face outline as a rotating
 * head's do (a pushed nose or a turned print leaves them in place). Ratios are of the offset change.
 */
export function threeDimensional(baseline: readonly Point[], lm: readonly Point[], m: Movement, d: Delta, r: ChallengeRules): { ok: boolean; parallax: number; rotation: number } {
  const a = along(m, d);
  const parallax = noseParallax(baseline, lm) / Math.max(1e-6, Math.hypot(d.x, d.y));
  const rotation = a.eyes / Math.max(1e-6, a.offset);
  return { ok: parallax >= r.minParallaxRatio && rotation >= r.minRotationRatio, parallax, rotation };
}

/**
 * Looking straight at the camera, as the baseline must: the nose offset along the eye line (absolute, not from the
 * rest pose) and, when known, fr_pose's yaw within the start's bounds.
 */
export function lookingStraight(offsetX: number, yaw: number | null, r: ChallengeRules): boolean {
  return Math.abs(offsetX) <= r.startMaxOffset && (yaw === null || Math.abs(yaw) <= r.startMaxYaw);
}

/** Back at the rest pose, loosely: people come back near, not exactly, to where they started. Degrees when known. */
export function atRest(d: Pick<Delta, 'x' | 'y'> & Partial<Pick<Delta, 'yaw' | 'pitch'>>, r: ChallengeRules): boolean {
  const offsets = Math.abs(d.x) <= r.returnOffset && Math.abs(d.y) <= r.returnOffset;
  return offsets && (d.yaw === undefined || Math.abs(d.yaw) <= r.returnDegrees) && (d.pitch === undefined || Math.abs(d.pitch) <= r.returnDegrees);
}

/** Came back from the last movement: its progress is at most `returnFraction` of the farthest it went. */
export function cameBack(p: number, peak: number, r: ChallengeRules): boolean {
  return p <= r.returnFraction * peak;
}

/** A frame that adds no new picture: a near-duplicate of one already counted as travel or target in this challenge. */
export function nearDuplicate(dhash: string | null, counted: readonly string[]): boolean {
  return dhash !== null && counted.some((c) => hamming(c, dhash) <= NEAR_DUPLICATE_BITS);
}
