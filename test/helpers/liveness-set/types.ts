/** The species of the evaluation set: bona fide answers and each kind of attack (ISO/IEC 30107-3 labels). */
export const LABELS = ['bona_fide', 'static_photo', 'planar_warp', 'photo_animation', 'challenge_mismatch', 'posed_photos', 'reordered_recording', 'resaved_stills'] as const;
export type Label = (typeof LABELS)[number];

export interface SetEntry {
  dir: string;
  challenge: string;
  label: Label;
  fps: number;
  /** What the sequence was made from, for reading the results. */
  source: string;
}

/** Writes one sequence's frames and records it in the set. */
export type AddSequence = (label: Label, name: string, frames: Buffer[], challenge: string, fps: number, source: string) => Promise<void>;
