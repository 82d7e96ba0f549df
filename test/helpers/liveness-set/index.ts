// Builds the challenge-liveness evaluation set from shared/faces into a folder: one sub-folder of JPEG frames per
// sequence and a `sequences.tsv` for `face-oidc liveness-eval` (format in src/challenge/README.md). Deterministic:
// every random choice comes from a seeded PRNG, so a run can be reproduced and compared.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FaceEngine } from '../../../src/face/index.js';
import { posedRecordingFrames, posedStills, reorderedRecordings, resavedStills, tiltMismatches } from './attacks.js';
import { recordingFrames, turnAnswers, turnBonaFide, type Answer } from './bona-fide.js';
import { motionClips } from './motion-clips.js';
import { photoAttacks } from './photo-attacks.js';
import type { AddSequence, SetEntry } from './types.js';

export { LABELS, type Label, type SetEntry } from './types.js';

async function writeFrames(dir: string, frames: Buffer[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(frames.map((f, i) => writeFile(path.join(dir, `frame_${String(i + 1).padStart(4, '0')}.jpg`), f)));
}

/**
 * Writes the set into `outDir` and returns the sequences file; `engine` finds the faces the photo attacks crop.
 * From the talking-head clips and deepface photos (motion-clips.ts, photo-attacks.ts): 16 bona fide, 15 challenge
 * mismatches, 6 static photos, 8 planar warps, 8 photo animations. From the turning recordings and posed stills
 * (bona-fide.ts, attacks.ts): 38 bona fide answers with real habits, 3 more mismatches (head tilts), 21 posed
 * photos in the drawn order, 14 re-ordered recordings, 8 re-saved stills. `repo` holds the shipped sample answer
 * (src/bench/sample/challenge-up-right).
 */
export async function buildLivenessSet(shared: string, outDir: string, engine: FaceEngine, repo: string): Promise<{ file: string; entries: SetEntry[] }> {
  const entries: SetEntry[] = [];
  const add: AddSequence = async (label, name, frames, challenge, fps, source) => {
    const dir = path.join(outDir, label, name);
    if (entries.some((e) => e.dir === dir)) throw new Error(`two sequences named ${label}/${name}`);
    await writeFrames(dir, frames);
    entries.push({ dir, challenge, label, fps, source });
  };
  const turns = path.join(shared, 'turns');

  await motionClips(path.join(shared, 'motion'), add);
  await photoAttacks(path.join(shared, 'deepface'), engine, add);

  const sample: Answer = { recording: 'challenge-up-right', frames: await recordingFrames(path.join(repo, 'src/bench/sample/challenge-up-right')), challenge: 'up,right', window: null };
  const answers = await turnAnswers(turns);
  await turnBonaFide([...answers, sample], add);
  await tiltMismatches(turns, add);
  await posedStills(path.join(turns, 'olebialas_headpose_stills'), add);
  await posedRecordingFrames(turns, answers, add);
  await reorderedRecordings(turns, answers, add);
  await resavedStills(path.join(shared, 'deepface'), engine, add);

  const file = path.join(outDir, 'sequences.tsv');
  await writeFile(file, entries.map((e) => [e.dir, e.challenge, e.label, e.fps].join('\t')).join('\n') + '\n');
  return { file, entries };
}
