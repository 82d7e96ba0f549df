import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dHash, hamming, NEAR_DUPLICATE_BITS } from '../../src/face/index.js';
import { fingerprint } from '../../src/verification/fingerprint.js';
import { ReplayGuard } from '../../src/verification/replay.js';
import { memoryKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { cameraFrames } from '../helpers/camera.js';
import { ROOT } from '../helpers/server.js';

const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);

describe('frame fingerprints', () => {
  it('keep a re-encoded or rescaled copy within the near-duplicate distance', async () => {
    const [frame] = await cameraFrames(face('deepface-img2.jpg'), 1, { seed: 3 });
    const original = await dHash(frame);
    const copies = await Promise.all([
      sharp(frame).jpeg({ quality: 60 }).toBuffer(),
      sharp(frame).jpeg({ quality: 95 }).toBuffer(),
      sharp(frame).resize(480).jpeg({ quality: 85 }).toBuffer(),
      sharp(frame).resize(1280).jpeg({ quality: 85 }).toBuffer(),
      sharp(frame).png().toBuffer(),
    ]);
    for (const copy of copies) expect(hamming(original, await dHash(copy))).toBeLessThanOrEqual(NEAR_DUPLICATE_BITS);
    // The same picture moved by 5 px (a replay nudged to evade the check) is still recognised.
    const shifted = await sharp(frame).extend({ left: 5, background: '#000' }).extract({ left: 0, top: 0, width: 640, height: 480 }).jpeg().toBuffer();
    expect(hamming(original, await dHash(shifted))).toBeLessThanOrEqual(NEAR_DUPLICATE_BITS);
  });

  it('tell pictures of other sittings apart, and never repeat bytes between camera frames', async () => {
    const [a] = await cameraFrames(face('deepface-img1.jpg'), 1);
    const [b] = await cameraFrames(face('deepface-img2.jpg'), 1);
    const [c] = await cameraFrames(face('deepface-img17.jpg'), 1);
    const [ha, hb, hc] = await Promise.all([a, b, c].map(dHash));
    for (const [x, y] of [[ha, hb], [ha, hc], [hb, hc]]) expect(hamming(x, y)).toBeGreaterThan(NEAR_DUPLICATE_BITS);

    // Consecutive frames of the fake camera (as a capture takes them) differ in bytes, so they are not replays.
    const frames = await cameraFrames(face('deepface-img2.jpg'), 12, { seed: 9 });
    const digests = await Promise.all(frames.map(async (f) => (await fingerprint(f)).sha256));
    expect(new Set(digests).size).toBe(frames.length);
  });

  it('counts differing bits', () => {
    expect(hamming('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hamming('8000000000000001', '0000000000000000')).toBe(2);
  });
});

describe('replay guard', () => {
  let kv: KeyValueStore;
  let guard: ReplayGuard;
  let frames: Buffer[];

  beforeEach(async () => {
    kv = memoryKeyValueStore();
    guard = new ReplayGuard(kv);
    frames = await cameraFrames(face('deepface-img2.jpg'), 3, { seed: 5 });
  });

  afterEach(() => kv.close());

  const prints = (list: Buffer[]) => Promise.all(list.map(fingerprint));

  it('refuses byte-identical frames from any sign-in, and remembers per account', async () => {
    expect(await guard.screen('acct', 'uid-1', await prints(frames.slice(0, 2)))).toBe(false);
    expect(await guard.screen('acct', 'uid-1', await prints([frames[1]]))).toBe(true);
    expect(await guard.screen('acct', 'uid-2', await prints([frames[0]]))).toBe(true);
    expect(await guard.screen('other', 'uid-3', await prints([frames[0]]))).toBe(false);
  });

  it('refuses a re-encoded copy from another sign-in, but not a still person retrying in the same one', async () => {
    await guard.screen('acct', 'uid-1', await prints([frames[0]]));
    const copy = await sharp(frames[0]).jpeg({ quality: 80 }).toBuffer();
    expect(await guard.screen('acct', 'uid-1', await prints([copy]))).toBe(false);
    const another = await sharp(frames[0]).jpeg({ quality: 70 }).toBuffer();
    expect(await guard.screen('acct', 'uid-2', await prints([another]))).toBe(true);
  });

  it('accepts a fresh sitting', async () => {
    await guard.screen('acct', 'uid-1', await prints(frames));
    const fresh = await cameraFrames(face('deepface-img1.jpg'), 3, { seed: 6 });
    expect(await guard.screen('acct', 'uid-2', await prints(fresh))).toBe(false);
  });
});
