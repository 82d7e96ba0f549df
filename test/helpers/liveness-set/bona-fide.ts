// Bona fide answers with real people's habits, from real footage only: people turning far at a webcam
// (shared/faces/turns), cut into windows that perform 2–3 movements in their natural order, re-rendered like other
// cameras. The motion is never synthesised: every frame is a real frame, in its recorded order.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { random } from '../camera.js';
import { mirrored } from './challenges.js';
import { shoot, type Camera } from './image.js';
import { readMotion, turnWindows, type TurnWindow } from './turns.js';
import type { AddSequence } from './types.js';

/** The turning recordings are sampled at 6 frames per second. */
export const TURN_FPS = 6;

/**
 * Recordings whose windows are answers. `tfjs_facemesh_input` is not one: its person tilts the head towards each
 * shoulder (roll) and turns less than 12° of yaw and 11° of pitch, so no window of it performs a movement
 * (see `tiltMismatches` in attacks.ts). `olebialas_headpose_stills` are stills, not motion.
 */
export const TURN_RECORDINGS = ['fsanet_webcam', 'opencvzoo_yunet'];

export async function recordingFrames(dir: string): Promise<Buffer[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(files.map((f) => readFile(path.join(dir, f))));
}

/** Frame indices of a 6 fps recording as a 4 fps camera would have caught them: the nearest frame to every 250 ms. */
export function thinTo4fps(count: number): number[] {
  const out: number[] = [];
  for (let t = 0; Math.round(t * 1.5) < count; t++) out.push(Math.round(t * 1.5));
  return out;
}

/** Six cameras per window, drawn from `rnd`: every other one mirrored, half of them at 4 fps. */
export function cameras(rnd: () => number): { camera: Camera; fps: 4 | 6 }[] {
  return Array.from({ length: 6 }, (_, i) => ({
    camera: {
      mirror: i % 2 === 1,
      scale: 0.9 + 0.45 * rnd(),
      gain: 0.8 + 0.35 * rnd(),
      sigma: 1.5 + 3.5 * rnd(),
      quality: Math.round(60 + 32 * rnd()),
      dx: Math.round(12 * rnd() - 6),
      dy: Math.round(12 * rnd() - 6),
    },
    fps: i % 4 < 2 ? 6 : 4,
  }));
}

export interface Answer {
  /** Recording folder name, or the shipped sample's. */
  recording: string;
  frames: Buffer[];
  /** What frames start..end perform, in the person's own terms. */
  challenge: string;
  window: TurnWindow | null;
}

/** The windows of the turning recordings (turns.ts finds them from motion.csv), with their frames. */
export async function turnAnswers(turns: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const recording of TURN_RECORDINGS) {
    const dir = path.join(turns, recording);
    const frames = await recordingFrames(dir);
    for (const w of turnWindows(await readMotion(dir))) {
      answers.push({ recording, frames: frames.slice(w.start, w.end + 1), challenge: w.segments.map((g) => g.movement).join(','), window: w });
    }
  }
  return answers;
}

/**
 * Every answer through six cameras (mirrored ones answer the mirrored challenge), at 6 fps and thinned to 4 fps.
 * The windows found in the recordings (frame numbers as in the folders, 1-based):
 * - fsanet_webcam 15–33 `right,left`; 15–45 `right,left,down`; 25–45 `left,down`: far turns (39–46° of yaw) and
 *   a shallow nod (18–19°), a cap put on during the first turn; the frames after 48 have a hand over the face and
 *   then no face, so no window reaches them.
 * - opencvzoo_yunet 18–32 `up,right`; 18–35 `up,right,up`; 30–42 `up,right`: shallow nods (14–18°), one swept
 *   straight into a far turn (57°) whose pitch drifts from +18° to −15°, a loose return.
 * - the shipped sample `challenge-up-right` (src/bench/sample): a talking head answering `up,right`; the same
 *   footage as the motion clip `sadtalker-katiehill` of the original set, so only two cameras of it.
 */
export async function turnBonaFide(answers: Answer[], add: AddSequence): Promise<void> {
  const rnd = random(19);
  for (const a of answers) {
    const name = a.window ? `${a.recording}-${a.window.start + 1}-${a.window.end + 1}` : a.recording;
    const list = cameras(rnd).slice(0, a.window ? 6 : 2);
    for (const [i, { camera, fps }] of list.entries()) {
      const picked = fps === 6 ? a.frames.map((_, k) => k) : thinTo4fps(a.frames.length);
      const frames: Buffer[] = [];
      for (const k of picked) frames.push(await shoot(a.frames[k], camera, rnd));
      const challenge = camera.mirror ? mirrored(a.challenge) : a.challenge;
      await add('bona_fide', `${name}-cam${i + 1}${camera.mirror ? '-mirror' : ''}-${fps}fps`, frames, challenge, fps, a.recording);
    }
  }
}
