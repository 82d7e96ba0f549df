// Synthetic landmark sequences: a rigid 3-D head, a flat picture under perspective, and a picture whose nose and
// mouth are pushed in 2-D, projected by a pinhole camera into 68 iBUG points.
import { createHash } from 'node:crypto';
import type { FramePurpose, Movement, Observation, Point } from '../../src/challenge/index.js';

/** A frontal 68-point layout (fr_landmark on six frontal video frames, averaged and made symmetric), eye centre at 0, inter-eye distance 1, y down. */
export const FRONTAL: readonly Point[] = [
  [-1.077, -0.003], [-1.06, 0.283], [-1.014, 0.563], [-0.958, 0.839], [-0.862, 1.099], [-0.704, 1.32], [-0.498, 1.498], [-0.266, 1.639], [0.0, 1.681],
  [0.266, 1.639], [0.498, 1.498], [0.704, 1.32], [0.862, 1.099], [0.958, 0.839], [1.014, 0.563], [1.06, 0.283], [1.077, -0.003],
  [-0.91, -0.231], [-0.777, -0.367], [-0.579, -0.407], [-0.377, -0.377], [-0.188, -0.292], [0.188, -0.292], [0.377, -0.377], [0.579, -0.407], [0.777, -0.367], [0.91, -0.231],
  [0.0, -0.034], [0.0, 0.144], [0.0, 0.318], [0.0, 0.498], [-0.207, 0.657], [-0.106, 0.684], [0.0, 0.707], [0.106, 0.684], [0.207, 0.657],
  [-0.691, 0.002], [-0.57, -0.069], [-0.418, -0.065], [-0.295, 0.04], [-0.43, 0.07], [-0.582, 0.065],
  [0.295, 0.04], [0.418, -0.065], [0.57, -0.069], [0.691, 0.002], [0.582, 0.065], [0.43, 0.07],
  [-0.371, 1.043], [-0.23, 0.961], [-0.094, 0.908], [0.0, 0.936], [0.094, 0.908], [0.23, 0.961], [0.371, 1.043], [0.235, 1.164], [0.102, 1.213], [0.0, 1.224],
  [-0.102, 1.213], [-0.235, 1.164], [-0.304, 1.044], [-0.094, 1.018], [0.0, 1.029], [0.094, 1.018], [0.304, 1.044], [0.095, 1.064], [0.0, 1.073], [-0.095, 1.064],
];

/** Depth towards the camera (inter-eye distances, eyes at 0) of an average head: outline at the ears far back, nose tip in front. */
export const DEPTH: readonly number[] = [
  -0.9, -0.8, -0.65, -0.5, -0.35, -0.2, -0.05, 0.05, 0.1, 0.05, -0.05, -0.2, -0.35, -0.5, -0.65, -0.8, -0.9,
  -0.15, -0.02, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, -0.02, -0.15,
  0.05, 0.2, 0.35, 0.55, 0.25, 0.33, 0.38, 0.33, 0.25,
  -0.12, 0, 0, 0, 0, 0, 0, 0, 0, -0.12, 0, 0,
  0.05, 0.2, 0.26, 0.28, 0.26, 0.2, 0.05, 0.18, 0.22, 0.24, 0.22, 0.18, 0.1, 0.22, 0.24, 0.22, 0.1, 0.2, 0.22, 0.2,
];

export interface View {
  /** Degrees; + turns the head to the person's own left (nose towards the image's right). */
  yaw?: number;
  /** Degrees; + tips the head up. */
  pitch?: number;
  /** Pixels per inter-eye distance and the image position of the eye centre. */
  scale?: number;
  centre?: [number, number];
  /** Camera distance in inter-eye distances (perspective strength). */
  distance?: number;
}

/** Rotates (x, y, z) about a pivot by yaw about the vertical axis, then pitch about the horizontal axis, and projects. */
function project(points: readonly [number, number, number][], pivot: [number, number, number], v: View): Point[] {
  const r = Math.PI / 180;
  const [cy, sy] = [Math.cos((v.yaw ?? 0) * r), Math.sin((v.yaw ?? 0) * r)];
  const [cp, sp] = [Math.cos((v.pitch ?? 0) * r), Math.sin((v.pitch ?? 0) * r)];
  const scale = v.scale ?? 100;
  const [u0, v0] = v.centre ?? [320, 240];
  const dist = v.distance ?? 10;
  return points.map(([x, y, z]) => {
    const [px, py, pz] = [x - pivot[0], y - pivot[1], z - pivot[2]];
    const x1 = px * cy + pz * sy;
    const z1 = -px * sy + pz * cy;
    const y2 = py * cp - z1 * sp;
    const z2 = py * sp + z1 * cp;
    const [X, Y, Z] = [x1 + pivot[0], y2 + pivot[1], z2 + pivot[2]];
    const k = dist / (dist - Z);
    return [u0 + scale * X * k, v0 + scale * Y * k];
  });
}

/** A rigid head rotating about a pivot inside it (behind the eyes, at the height of the nose). */
export function headView(v: View = {}): Point[] {
  return project(FRONTAL.map((p, i) => [p[0], p[1], DEPTH[i]]), [0, 0.4, -1.3], v);
}

/** A flat picture of the frontal face (every point at depth 0) turned and tilted about its own centre. */
export function planeView(v: View = {}): Point[] {
  return project(FRONTAL.map((p) => [p[0], p[1], 0]), [0, 0.6, 0], v);
}

/** The frontal picture with nose and mouth points pushed by (dx, dy) inter-eye distances in the image: a photo animation. */
export function pushedView(dx: number, dy: number, v: View = {}): Point[] {
  const moved = new Set([...Array.from({ length: 9 }, (_, i) => 27 + i), ...Array.from({ length: 20 }, (_, i) => 48 + i)]);
  const base = planeView(v);
  const s = v.scale ?? 100;
  return base.map((p, i) => (moved.has(i) ? [p[0] + dx * s * (i === 27 ? 0.3 : 1), p[1] + dy * s * (i === 27 ? 0.3 : 1)] : p));
}

export interface Frame {
  landmarks: Point[] | null;
  /** fr_pose's reading: yaw > 0 when the face turned towards the image's left (the person's right). */
  yaw: number;
  pitch: number;
  subjects?: number;
  /** The face's identity: frames of one person share it; 'verify' analyses carry it as an embedding. */
  person?: number;
  liveness?: number;
  issues?: string[];
  /** The picture's dHash; by default one derived from the frame's digest, far from every other frame's. */
  dhash?: string;
}

/** A 512-d unit embedding for a person: persons are orthogonal to each other. */
export function embedding(person: number): Float32Array {
  const e = new Float32Array(512);
  e[person % 512] = 1;
  return e;
}

/** What the engine would report of `f` for `purpose`: 'locate' brings no pose, 'verify' the embedding and liveness. */
export function observation(f: Frame, t: number, sha256: string, purpose: FramePurpose): Observation {
  const verify = purpose === 'verify';
  const embedded = verify || purpose === 'turn';
  return {
    t,
    sha256,
    dhash: f.dhash ?? createHash('sha256').update(sha256).digest('hex').slice(0, 16),
    subjects: f.landmarks ? (f.subjects ?? 1) : 0,
    landmarks: f.landmarks,
    yaw: purpose === 'locate' ? null : f.yaw,
    pitch: purpose === 'locate' ? null : f.pitch,
    issues: f.issues ?? [],
    embedding: embedded && f.landmarks ? embedding(f.person ?? 0) : null,
    liveness: verify && f.landmarks ? { score: f.liveness ?? 0.99, live: (f.liveness ?? 0.99) >= 0.7 } : null,
    purpose,
  };
}

/** A real head answering: frontal frames, then per movement a turn to `peak` degrees and back, then frontal frames. */
export function answer(moves: readonly Movement[], opts: { peak?: number; person?: number; hold?: number } = {}): Frame[] {
  const peak = opts.peak ?? 30;
  const frames: Frame[] = [];
  const at = (yaw: number, pitch: number) => frames.push({ landmarks: headView({ yaw, pitch }), yaw: -yaw, pitch, person: opts.person });
  for (let i = 0; i < 3; i++) at(0, 0);
  for (const m of moves) {
    const [sy, sp] = m === 'left' ? [1, 0] : m === 'right' ? [-1, 0] : m === 'up' ? [0, 1] : [0, -1];
    const ramp = [0.25, 0.5, 0.75, 1, ...Array(opts.hold ?? 1).fill(1), 0.75, 0.5, 0.25, 0];
    for (const a of ramp) at(sy * peak * a, sp * peak * a);
  }
  for (let i = 0; i < 3; i++) at(0, 0);
  return frames;
}

/** How one person answers: measured habits of real people (src/challenge/README.md, "Why these numbers"). */
export interface Habits {
  /** Peak yaw of a side turn and peak pitch of a nod, degrees from rest. */
  sidePeak: number;
  nodPeak: number;
  /** Pitch drift while turning sideways at the peak, degrees (signed). */
  drift: number;
  /** Seconds per movement (out and back), and rest between movements (0: a sweep straight on). */
  movementSeconds: number;
  restSeconds: number;
  /** Where the head comes back to at the end, degrees off the rest pose. */
  returnYaw: number;
  returnPitch: number;
}

/** Draws habits from the measured distributions (medians and tails of real answers), with `rnd` in [0, 1). */
export function drawHabits(rnd: () => number): Habits {
  // Log-normal around the median with the 10th percentile where it was measured; never below the smallest seen.
  const logNormal = (median: number, p10: number, min: number) => Math.max(min, median * Math.exp(Math.log(median / p10) / 1.2816 * gaussianOf(rnd)));
  return {
    sidePeak: Math.min(65, logNormal(48, 33, 19)),
    nodPeak: Math.min(50, logNormal(42, 12, 9)),
    drift: (rnd() < 0.5 ? -1 : 1) * Math.min(30, Math.abs(19 + 6 * gaussianOf(rnd))),
    movementSeconds: Math.min(3.5, Math.max(0.6, logNormal(1.5, 0.8, 0.6))),
    restSeconds: rnd() < 0.3 ? 0 : Math.min(1.5, Math.max(0.2, logNormal(0.5, 0.2, 0.2))),
    returnYaw: 8 * (rnd() * 2 - 1),
    returnPitch: 8 * (rnd() * 2 - 1),
  };
}

function gaussianOf(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/**
 * A person with `habits` answering `moves` at `fps`: a rest, then each movement out to its peak and back along a
 * smooth (cosine) profile, side turns drifting in pitch in proportion, resting or sweeping on between movements, and
 * coming back near the rest pose at the end. fr_pose reads the head's angles; landmark jitter of `jitter` px.
 */
export function humanAnswer(moves: readonly Movement[], h: Habits, fps: number, rnd: () => number, jitter = 0.6): Frame[] {
  const frames: Frame[] = [];
  const at = (yaw: number, pitch: number) => {
    const lm = headView({ yaw, pitch }).map(([x, y]) => [x + jitter * gaussianOf(rnd), y + jitter * gaussianOf(rnd)] as Point);
    frames.push({ landmarks: lm, yaw: -yaw, pitch });
  };
  const hold = (seconds: number, yaw: number, pitch: number) => {
    for (let i = 0; i < Math.round(seconds * fps); i++) at(yaw, pitch);
  };
  hold(0.5, 0, 0);
  moves.forEach((m, k) => {
    const [sy, sp] = m === 'left' ? [1, 0] : m === 'right' ? [-1, 0] : m === 'up' ? [0, 1] : [0, -1];
    const peak = sy ? h.sidePeak : h.nodPeak;
    const n = Math.max(2, Math.round(h.movementSeconds * fps));
    const last = k === moves.length - 1;
    for (let i = 1; i <= n; i++) {
      // Out and back: 0 → 1 → 0 over the movement; the last one comes back only near the rest pose.
      const a = Math.sin((Math.PI * i) / n);
      const home = last ? i / n : 0;
      at(sy * peak * a + home * h.returnYaw, sp * peak * a + Math.abs(sy) * h.drift * a + home * h.returnPitch);
    }
    if (!last) hold(h.restSeconds, 0, 0);
  });
  hold(1.5, h.returnYaw, h.returnPitch);
  return frames;
}

/**
 * A script sending posed pictures in the drawn order: a few stills per pose (frontal, and each movement at 30–40°),
 * each for `holdFrames` frames, as a virtual camera would, with landmark noise as a re-saved copy has.
 */
export function posedPictures(moves: readonly Movement[], rnd: () => number, holdFrames = 4): Frame[] {
  const stills = (yaw: number, pitch: number) => Array.from({ length: 3 }, () => [yaw + 3 * (rnd() * 2 - 1), pitch + 3 * (rnd() * 2 - 1)] as const);
  const frames: Frame[] = [];
  const show = (pose: readonly (readonly [number, number])[]) => {
    for (const [yaw, pitch] of pose) for (let i = 0; i < holdFrames; i++) frames.push({ landmarks: headView({ yaw, pitch }).map(([x, y]) => [x + 0.6 * gaussianOf(rnd), y + 0.6 * gaussianOf(rnd)] as Point), yaw: -yaw, pitch });
  };
  const frontal = stills(0, 0);
  show(frontal);
  for (const m of moves) {
    const a = 30 + 10 * rnd();
    show(stills(m === 'left' ? a : m === 'right' ? -a : 0, m === 'up' ? a : m === 'down' ? -a : 0));
    show(frontal);
  }
  return frames;
}
