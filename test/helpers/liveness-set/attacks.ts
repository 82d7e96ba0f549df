// Attacks by someone who controls what the camera sends (a virtual camera or a script posting frames) and chooses
// frames to follow the drawn challenge: posed photos in the drawn order, a real recording cut and re-ordered, a
// still re-saved frame after frame; and a real person who answers no movement (head tilts) as a mismatch.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FaceEngine } from '../../../src/face/index.js';
import { random } from '../camera.js';
import type { Answer } from './bona-fide.js';
import { TURN_FPS, recordingFrames } from './bona-fide.js';
import { mirrored, randomChallenge, type Movement } from './challenges.js';
import { blend, decode, encode, gaussian, shift, view, type Raw } from './image.js';
import { headAndShoulders } from './photo-attacks.js';
import { posedFrames, readMotion, restRun, segmentFrom, type Segment } from './turns.js';
import type { AddSequence } from './types.js';

/** A script re-saves every frame: sensor-like noise, a shift of a few pixels, a little exposure change, JPEG. */
function resave(img: Raw, rnd: () => number): Promise<Buffer> {
  const moved = shift(img, Math.round(8 * rnd() - 4), Math.round(8 * rnd() - 4));
  return encode(moved, rnd, 2 + 2 * rnd(), 1 + 0.03 * gaussian(rnd), Math.round(80 + 12 * rnd()));
}

/** `olebialas_headpose_stills`: frames 1–3 frontal, 4–6 the person's own left, 7–9 right, 10–12 up, 13–15 down (SOURCE_NAMES.txt). */
const POSE_STILLS: Record<Movement | 'frontal', number[]> = { frontal: [1, 2, 3], left: [4, 5, 6], right: [7, 8, 9], up: [10, 11, 12], down: [13, 14, 15] };

type PoseScript = 'quick' | 'hold' | 'crossfade';
type Pose = Movement | 'frontal';

/**
 * Posed photos sent in the drawn order at 6 frames/s, as a script would: frontal, then each movement's photo with
 * frontal between and at the end. `quick` shows each pose for 1–2 frames, `hold` repeats it for 0.5–1.5 s,
 * `crossfade` also moves between poses through 2–3 blended frames. Every frame is re-saved (noise, shift, JPEG).
 */
async function sendPoses(moves: Movement[], script: PoseScript, pick: (pose: Pose) => Raw, rnd: () => number): Promise<Buffer[]> {
  const shown = [pick('frontal'), ...moves.flatMap((m) => [pick(m), pick('frontal')])];
  const frames: Buffer[] = [];
  for (const [k, pic] of shown.entries()) {
    const hold = script === 'hold' ? 3 + Math.floor(rnd() * 7) : 1 + Math.floor(rnd() * 2);
    const n = k === 0 || k === shown.length - 1 ? Math.max(3, hold) : hold;
    for (let j = 0; j < n; j++) frames.push(await resave(pic, rnd));
    const steps = script === 'crossfade' && k + 1 < shown.length ? 2 + Math.floor(rnd() * 2) : 0;
    for (let j = 1; j <= steps; j++) frames.push(await resave(blend(pic, shown[k + 1], j / (steps + 1)), rnd));
  }
  return frames;
}

const SCRIPTS: PoseScript[] = ['quick', 'hold', 'crossfade'];

/**
 * 15 `posed_photos` from the 15 posed stills of one person (greyscale, 3 per pose): 5 drawn challenges × the three
 * scripts; each appearance of a pose uses one of its three stills at random.
 */
export async function posedStills(stillsDir: string, add: AddSequence): Promise<void> {
  const rnd = random(23);
  const pics = new Map<number, Raw>();
  for (let n = 1; n <= 15; n++) pics.set(n, await decode(await readFile(path.join(stillsDir, `frame_${String(n).padStart(4, '0')}.jpg`))));
  const pick = (pose: Pose) => pics.get(POSE_STILLS[pose][Math.floor(rnd() * 3)])!;
  for (let i = 0; i < 5; i++) {
    for (const script of SCRIPTS) {
      const moves = randomChallenge(rnd);
      await add('posed_photos', `olebialas-${script}-${i + 1}`, await sendPoses(moves, script, pick, rnd), moves.join(','), TURN_FPS, 'olebialas_headpose_stills');
    }
  }
}

/**
 * 6 `posed_photos` in colour, from frames of the turning recordings used as photos (turns.ts `posedFrames`: the most
 * frontal frame and each movement's farthest one within the bona fide windows; a missing side is the other side's frame mirrored), the three
 * scripts per recording with challenges of the poses it has. Unlike the greyscale stills, these pass passive liveness
 * frame by frame, so only the challenge can refuse them.
 */
export async function posedRecordingFrames(turns: string, answers: Answer[], add: AddSequence): Promise<void> {
  const rnd = random(41);
  for (const recording of [...new Set(answers.filter((a) => a.window).map((a) => a.recording))]) {
    const dir = path.join(turns, recording);
    const all = await recordingFrames(dir);
    const windows = answers.filter((a) => a.recording === recording && a.window).map((a) => a.window!);
    const { frontal, peaks } = posedFrames(await readMotion(dir), windows);
    const photo = (i: number, mirror: boolean) => view(all[i], { mirror, scale: 1, dx: 0, dy: 0 });
    const pics = new Map<Pose, Raw>([['frontal', await photo(frontal, false)]]);
    for (const [m, i] of Object.entries(peaks) as [Movement, number][]) pics.set(m, await photo(i, false));
    if (peaks.right !== undefined && peaks.left === undefined) pics.set('left', await photo(peaks.right, true));
    if (peaks.left !== undefined && peaks.right === undefined) pics.set('right', await photo(peaks.left, true));
    const poses = [...pics.keys()].filter((p): p is Movement => p !== 'frontal');
    for (const script of SCRIPTS) {
      const moves = randomChallenge(rnd, [], poses);
      await add('posed_photos', `${recording}-frames-${script}`, await sendPoses(moves, script, (p) => pics.get(p)!, rnd), moves.join(','), TURN_FPS, recording);
    }
  }
}

/**
 * A movement of a recording as a piece to cut: from the last rest frame before it to the first rest frame after it,
 * never into the movement before or after (a sweep is cut where one movement gives way to the next).
 */
interface Piece {
  movement: Movement;
  frames: number[];
}

function pieces(answer: Answer, labels: string[]): Piece[] {
  const w = answer.window!;
  const restAt = (i: number) => labels[i - w.start] === 'rest';
  return w.segments.map((g: Segment, k) => {
    const from = k > 0 ? w.segments[k - 1].last + 1 : w.start;
    let a = g.first;
    while (a > from && !restAt(a)) a--;
    let b = g.last;
    const stop = w.segments[k + 1]?.first ?? w.end + 1;
    while (b + 1 < stop && !restAt(b)) b++;
    return { movement: g.movement, frames: Array.from({ length: b - a + 1 }, (_, i) => a + i) };
  });
}

/**
 * `reordered_recording`: a real recording of the person cut into its movements (pieces from rest to rest) and
 * re-ordered to follow a challenge it never performed in that order, each piece re-encoded and shifted by a few
 * pixels, some mirrored as a whole (which swaps left and right). Pieces come from the bona fide windows, so the
 * movements are real; the challenges are the orders of those movements that no window performs.
 */
export async function reorderedRecordings(turns: string, answers: Answer[], add: AddSequence): Promise<void> {
  const rnd = random(29);
  for (const recording of [...new Set(answers.filter((a) => a.window).map((a) => a.recording))]) {
    const dir = path.join(turns, recording);
    const rows = await readMotion(dir);
    const all = await recordingFrames(dir);
    const windows = answers.filter((a) => a.recording === recording && a.window);
    const byMovement = new Map<Movement, Piece[]>();
    for (const a of windows) {
      for (const p of pieces(a, segmentFrom(rows, a.window!.start).labels)) {
        const list = byMovement.get(p.movement) ?? [];
        if (!list.some((q) => q.frames[0] === p.frames[0])) list.push(p);
        byMovement.set(p.movement, list);
      }
    }
    const performed = new Set(windows.map((a) => a.challenge));
    const available = [...byMovement.keys()];
    // Real frames of the person waiting at rest (before the last window ends: a hand covers the face later in
    // fsanet_webcam) open and close the cut, as a careful attacker would choose them.
    const waiting = restRun(rows, Math.max(...windows.map((a) => a.window!.end)));
    const lead = waiting.slice(0, Math.max(1, waiting.length - 2));
    const tail = waiting.slice(-2);
    const count = recording === 'fsanet_webcam' ? 10 : 4;
    const seen = new Set<string>();
    for (let tries = 0; seen.size < count && tries < 500; tries++) {
      const moves = randomChallenge(rnd, [], available);
      const c = moves.join(',');
      const mirror = seen.size % 2 === 1;
      if (performed.has(c) || seen.has(`${c}${mirror}`)) continue;
      seen.add(`${c}${mirror}`);
      const frames: Buffer[] = [];
      const cut = async (indices: number[]) => {
        const dx = Math.round(10 * rnd() - 5);
        const dy = Math.round(10 * rnd() - 5);
        for (const i of indices) frames.push(await encode(await view(all[i], { mirror, scale: 1, dx, dy }), rnd, 2 + 2 * rnd(), 1, Math.round(75 + 15 * rnd())));
      };
      await cut(lead);
      for (const m of moves) {
        const list = byMovement.get(m)!;
        await cut(list[Math.floor(rnd() * list.length)].frames);
      }
      await cut(tail);
      await add('reordered_recording', `${recording}-${moves.join('-')}${mirror ? '-mirror' : ''}`, frames, mirror ? mirrored(c) : c, TURN_FPS, recording);
    }
  }
}

/** The deepface photo of each person whose fr_pose is most frontal (smallest |yaw| + |pitch − its rest bias|). */
async function frontalStills(deepface: string, engine: FaceEngine): Promise<string[]> {
  const rows = (await readFile(path.join(deepface, 'manifest_identity.csv'), 'utf8')).trim().split('\n').slice(1).map((r) => r.split(','));
  const best = new Map<string, { file: string; score: number }>();
  for (const [file, person] of rows.sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
    const pose = (await engine.analyze(await readFile(path.join(deepface, file)), 'turn')).face?.pose;
    if (!pose) continue;
    const score = Math.abs(pose.yaw) + Math.abs(pose.pitch);
    if (!best.has(person) || score < best.get(person)!.score) best.set(person, { file: path.join(deepface, file), score });
  }
  return [...best.values()].map((b) => b.file);
}

/** 8 `resaved_stills`: one frontal photo per person, head and shoulders, re-saved with noise and a shift, 4 s at 6 fps. */
export async function resavedStills(deepface: string, engine: FaceEngine, add: AddSequence): Promise<void> {
  const rnd = random(31);
  const files = (await frontalStills(deepface, engine)).slice(0, 8);
  for (const file of files) {
    const img = await decode(await headAndShoulders(engine, file), { width: 640, height: 480, fit: 'cover' });
    const frames: Buffer[] = [];
    for (let k = 0; k < 24; k++) frames.push(await resave(img, rnd));
    await add('resaved_stills', path.basename(file, '.jpg'), frames, randomChallenge(rnd).join(','), TURN_FPS, file);
  }
}

/**
 * `challenge_mismatch` from real footage: the person of `tfjs_facemesh_input` tilts the head towards each shoulder
 * (roll up to ±41°) with less than 12° of yaw and 11° of pitch: a real, moving, live face that answers no movement.
 */
export async function tiltMismatches(turns: string, add: AddSequence): Promise<void> {
  const frames = await recordingFrames(path.join(turns, 'tfjs_facemesh_input'));
  const rnd = random(37);
  for (const [i, c] of ['left,right', 'right,left', 'right,up,left'].entries()) {
    const picked: Buffer[] = [];
    for (const f of frames.slice(0, 45)) picked.push(await encode(await view(f, { mirror: i === 1, scale: 1, dx: 0, dy: 0 }), rnd, 2, 1, 85));
    await add('challenge_mismatch', `tfjs_facemesh_input-tilts-${c.replaceAll(',', '-')}`, picked, c, TURN_FPS, 'tfjs_facemesh_input');
  }
}

