import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireSharedFaces, SHARED_FACES } from '../face/helpers.js';
import { thinTo4fps } from '../helpers/liveness-set/bona-fide.js';
import { readMotion, turnWindows, type PoseRow } from '../helpers/liveness-set/turns.js';

/** Pose rows from [yaw, pitch] pairs (null: no face). */
const rows = (poses: ([number, number] | null)[]): PoseRow[] => poses.map((p, i) => ({ file: `f${i}`, yaw: p?.[0] ?? null, pitch: p?.[1] ?? null }));
const summary = (r: PoseRow[]) => turnWindows(r).map((w) => `${w.start}-${w.end} ${w.segments.map((g) => g.movement).join(',')}`);

describe('the windows of a turning recording that make a bona fide answer', () => {
  it('finds the movements in their order, a sweep through frontal included, and ends back at rest', () => {
    // rest, left (the person's own: yaw < 0) swept straight through frontal into right, rest.
    const r = rows([[0, 0], [1, 0], [0, 1], [-25, 3], [-40, 5], [-10, 2], [30, 0], [45, -2], [5, 0], [1, 1], [0, 0], [0, 0]]);
    expect(summary(r)).toEqual(['1-10 left,right']);
  });

  it("keeps a turn's own pitch drift inside the turn, and a one-frame dip is no movement", () => {
    // The turn drifts 25° in pitch; on the way back one frame dips 15°; then a nod up.
    const r = rows([[0, 0], [0, 0], [-30, -20], [-45, -25], [-5, -15], [0, 0], [2, 14], [1, 20], [0, 1], [0, 0], [0, 0]]);
    expect(summary(r)).toEqual(['0-10 left,up']);
  });

  it('makes no window without a return to rest, with a face lost, or with a wrong lead-in', () => {
    expect(summary(rows([[0, 0], [0, 0], [-30, 0], [-40, 0], [0, 0], [30, 0], [40, 0], [35, 0]]))).toEqual([]);
    expect(summary(rows([[0, 0], [0, 0], [-30, 0], [-40, 0], null, [30, 0], [40, 0], [0, 0], [0, 0]]))).toEqual([]);
    // The head sits 15° off for three frames before the first movement: neither a rest start nor a rest lead-in.
    expect(summary(rows([[0, 0], [0, 0], [15, 0], [15, 0], [15, 0], [-30, 0], [-40, 0], [0, 0], [30, 0], [40, 0], [0, 0]]))).toEqual([]);
  });

  it('thins a 6 fps recording to the frames nearest every 250 ms', () => {
    expect(thinTo4fps(10)).toEqual([0, 2, 3, 5, 6, 8, 9]);
  });
});

describe.runIf(requireSharedFaces())('the windows of the shared turning recordings', () => {
  it('are the ones the builder documents (bona-fide.ts, README.md)', async () => {
    const found = async (name: string) => summary(await readMotion(path.join(SHARED_FACES!, 'turns', name))).map((s) => s.replace(/^(\d+)-(\d+)/, (_, a: string, b: string) => `${Number(a) + 1}–${Number(b) + 1}`));
    expect(await found('fsanet_webcam')).toEqual(['15–33 right,left', '15–45 right,left,down', '25–45 left,down']);
    expect(await found('opencvzoo_yunet')).toEqual(['18–32 up,right', '18–35 up,right,up', '30–42 up,right']);
    expect(await found('tfjs_facemesh_input')).toEqual([]);
  });
});
