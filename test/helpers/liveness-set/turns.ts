// Finds what a real recording of a turning head performs, from the fr_pose angles of its motion.csv: which movements,
// in what order, and windows of it that start at a rest pose, make 2–3 movements and come back near the start.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Movement } from './challenges.js';

/** One frame of a recording: fr_pose degrees (yaw < 0: the person's own left; pitch > 0: up), null without a face. */
export interface PoseRow {
  file: string;
  yaw: number | null;
  pitch: number | null;
}

/** A movement made in a recording: frames first..last (indices) are past the movement's target, peak the farthest. */
export interface Segment {
  movement: Movement;
  first: number;
  last: number;
  /** Degrees from the rest pose along the movement's axis at its farthest frame. */
  peak: number;
}

/** Frames start..end of a recording: a rest pose, `segments` in order, and back near the rest pose. */
export interface TurnWindow {
  start: number;
  end: number;
  segments: Segment[];
}

/**
 * Thresholds, degrees from the window's first frame. A side turn counts from 20° of yaw and a nod from 12° of pitch:
 * answers of real people reach a median of 48° and 42° (10th percentiles 33° and 12°, src/challenge/README.md), so a
 * movement below these is drift, not an answer. Each frame goes to its dominant axis among those past their target,
 * which keeps a turn's own pitch drift (up to 30° in real answers) inside the turn. Rest is within 12° of yaw and 8°
 * of pitch: people come back near, not exactly, to where they started.
 */
export const TURN = { sideDeg: 20, verticalDeg: 12, restYawDeg: 12, restPitchDeg: 8, minFrames: 2, heldDeg: 11, tailFrames: 2, startYawDeg: 12 } as const;

export async function readMotion(dir: string): Promise<PoseRow[]> {
  const lines = (await readFile(path.join(dir, 'motion.csv'), 'utf8')).trim().split('\n');
  const header = lines[0].split(',');
  const [iFile, iFaces, iYaw, iPitch] = ['frame', 'faces', 'yaw', 'pitch'].map((c) => header.indexOf(c));
  if ([iFile, iFaces, iYaw, iPitch].includes(-1)) throw new Error(`${dir}/motion.csv lacks frame, faces, yaw or pitch`);
  return lines.slice(1).map((line) => {
    const c = line.split(',');
    const face = c[iFaces] === '1' && c[iYaw] !== '';
    return { file: c[iFile], yaw: face ? Number(c[iYaw]) : null, pitch: face ? Number(c[iPitch]) : null };
  });
}

type Label = Movement | 'rest' | 'between';

function label(dYaw: number, dPitch: number): Label {
  const side = Math.abs(dYaw) >= TURN.sideDeg;
  const vertical = Math.abs(dPitch) >= TURN.verticalDeg;
  if (side && (!vertical || Math.abs(dYaw) >= Math.abs(dPitch))) return dYaw < 0 ? 'left' : 'right';
  if (vertical) return dPitch > 0 ? 'up' : 'down';
  return Math.abs(dYaw) <= TURN.restYawDeg && Math.abs(dPitch) <= TURN.restPitchDeg ? 'rest' : 'between';
}

/**
 * Labels frames from `start` (the rest pose) until the first frame without a face, and groups them into movements:
 * runs of one movement at least `minFrames` long (shorter runs are transitions, e.g. a dip on the way back); two
 * runs of one movement with no rest frame between them are one movement.
 */
export function segmentFrom(rows: PoseRow[], start: number): { labels: Label[]; segments: Segment[] } {
  const rest = rows[start];
  const labels: Label[] = [];
  for (let i = start; i < rows.length && rows[i].yaw !== null; i++) labels.push(label(rows[i].yaw! - rest.yaw!, rows[i].pitch! - rest.pitch!));
  const segments: Segment[] = [];
  for (let i = 0; i < labels.length; ) {
    let j = i;
    while (j + 1 < labels.length && labels[j + 1] === labels[i]) j++;
    const m = labels[i];
    if (m !== 'rest' && m !== 'between' && j - i + 1 >= TURN.minFrames) {
      const along = (k: number) => Math.abs(m === 'left' || m === 'right' ? rows[start + k].yaw! - rest.yaw! : rows[start + k].pitch! - rest.pitch!);
      let peak = 0;
      for (let k = i; k <= j; k++) peak = Math.max(peak, along(k));
      const prev = segments.at(-1);
      if (prev && prev.movement === m && !labels.slice(prev.last - start + 1, i).includes('rest')) {
        prev.last = start + j;
        prev.peak = Math.max(prev.peak, peak);
      } else {
        segments.push({ movement: m, first: start + i, last: start + j, peak });
      }
    }
    i = j + 1;
  }
  return { labels, segments };
}

/** Pitch of the recording's frontal frames (median over |yaw| ≤ 12°): fr_pose reads people's rest pitch off zero. */
function restPitch(rows: PoseRow[]): number {
  const p = rows.filter((r) => r.yaw !== null && Math.abs(r.yaw) <= TURN.startYawDeg).map((r) => r.pitch!).sort((a, b) => a - b);
  return p.length ? p[Math.floor(p.length / 2)] : 0;
}

/**
 * A frame a challenge can start from: a face near frontal at the recording's rest pitch, held (the next frame within
 * 11°: the recordings repeat frames and jump up to 50° between two, so a pose passed through differs by more).
 */
function isRestStart(rows: PoseRow[], i: number, pitch0: number): boolean {
  const a = rows[i];
  const b = rows[i + 1];
  if (!b || a.yaw === null || b.yaw === null) return false;
  const held = Math.abs(b.yaw - a.yaw) <= TURN.heldDeg && Math.abs(b.pitch! - a.pitch!) <= TURN.heldDeg;
  return held && Math.abs(a.yaw) <= TURN.startYawDeg && Math.abs(a.pitch! - pitch0) <= TURN.restPitchDeg;
}

const overlaps = (a: Segment, b: Segment) => a.movement === b.movement && a.first <= b.last && b.first <= a.last;

/**
 * Every window of 2 or 3 movements in a recording that starts at a held rest pose, stays at rest until the movement
 * begins (up to `minFrames` ramp frames may be on the way), and ends back at rest: the first rest frame after the
 * last movement and up to `tailFrames` more rest frames. Between movements anything goes that is
 * not another movement: a rest, a sweep through frontal, a one-frame dip. Of windows answering the same movements of
 * the recording, the one with the latest start (the shortest wait) is kept, so no window is a near-copy of another.
 */
export function turnWindows(rows: PoseRow[]): TurnWindow[] {
  const pitch0 = restPitch(rows);
  const kept: TurnWindow[] = [];
  for (let s = 0; s < rows.length; s++) {
    if (!isRestStart(rows, s, pitch0)) continue;
    const { labels, segments } = segmentFrom(rows, s);
    for (const k of [2, 3]) {
      if (segments.length < k) continue;
      const used = segments.slice(0, k);
      if (used.some((g, i) => i > 0 && used[i - 1].movement === g.movement)) continue;
      const leadIn = labels.slice(0, used[0].first - s);
      if (leadIn.length < 2 || leadIn.slice(0, -TURN.minFrames).some((l) => l !== 'rest')) continue;
      const stop = segments[k]?.first ?? s + labels.length;
      let end = -1;
      for (let i = used[k - 1].last + 1; i < stop && end < 0; i++) if (labels[i - s] === 'rest') end = i;
      if (end < 0) continue;
      const back = end;
      while (end + 1 < stop && end < back + TURN.tailFrames && labels[end + 1 - s] === 'rest') end++;
      const w = { start: s, end, segments: used };
      const same = kept.findIndex((o) => o.segments.length === k && o.segments.every((g, i) => overlaps(g, used[i])));
      if (same >= 0) kept[same] = w;
      else kept.push(w);
    }
  }
  return kept;
}

/**
 * Photos of the person a recording offers an attacker: among the frames of `windows` (the clean stretches: no hand
 * over the face), the most frontal frame and, for each movement made, the frame farthest along it from there.
 */
export function posedFrames(rows: PoseRow[], windows: TurnWindow[]): { frontal: number; peaks: Partial<Record<Movement, number>> } {
  const pitch0 = restPitch(rows);
  const inside = (i: number) => windows.some((w) => i >= w.start && i <= w.end);
  let frontal = -1;
  rows.forEach((r, i) => {
    if (r.yaw === null || !inside(i)) return;
    const off = (q: PoseRow) => Math.abs(q.yaw!) + Math.abs(q.pitch! - pitch0);
    if (frontal < 0 || off(r) < off(rows[frontal])) frontal = i;
  });
  const f = rows[frontal];
  const peaks: Partial<Record<Movement, number>> = {};
  const far: Partial<Record<Movement, number>> = {};
  rows.forEach((r, i) => {
    if (r.yaw === null || !inside(i)) return;
    const m = label(r.yaw - f.yaw!, r.pitch! - f.pitch!);
    if (m === 'rest' || m === 'between') return;
    const along = m === 'left' || m === 'right' ? Math.abs(r.yaw - f.yaw!) : Math.abs(r.pitch! - f.pitch!);
    if (along > (far[m] ?? 0)) {
      far[m] = along;
      peaks[m] = i;
    }
  });
  return { frontal, peaks };
}

/**
 * The longest run of frames at the recording's rest pose (near frontal, at its rest pitch) up to frame `last` (the
 * clean part of the recording): real frames of a person waiting.
 */
export function restRun(rows: PoseRow[], last: number): number[] {
  const pitch0 = restPitch(rows);
  let best: number[] = [];
  let run: number[] = [];
  rows.slice(0, last + 1).forEach((r, i) => {
    const rest = r.yaw !== null && Math.abs(r.yaw) <= TURN.startYawDeg && Math.abs(r.pitch! - pitch0) <= TURN.restPitchDeg;
    run = rest ? [...run, i] : [];
    if (run.length > best.length) best = run;
  });
  return best;
}
