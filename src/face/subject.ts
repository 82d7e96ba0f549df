import type { Box, DetectedFace } from './types.js';

/** A face's size: the geometric mean of its box sides, so ordering by size is ordering by box area. */
export const boxSize = (b: Box): number => Math.sqrt(b.width * b.height);

/**
 * Faces within this factor of the largest one's size are a tie. The detector's boxes of one face vary that much
 * by themselves: across shifted, rescaled and mirrored copies of the 61 deepface photos and consecutive frames of
 * the motion clips, the size ratio of the same face stayed within 0.91–1.09 (p1–p99), see README.md.
 */
export const SIZE_TIE_RATIO = 0.9;

/**
 * The photo's subject, one rule for every purpose: the largest face by box area; faces tied with it in size
 * (≥ SIZE_TIE_RATIO of its size) are decided by the distance of their box centre to the image centre.
 */
export function chooseSubject(faces: readonly DetectedFace[], width: number, height: number): DetectedFace {
  if (faces.length === 0) throw new RangeError('chooseSubject needs at least one face');
  const largest = Math.max(...faces.map((f) => boxSize(f.box)));
  const offCentre = (f: DetectedFace) => Math.hypot(f.box.x + f.box.width / 2 - width / 2, f.box.y + f.box.height / 2 - height / 2);
  return faces.filter((f) => boxSize(f.box) >= SIZE_TIE_RATIO * largest).reduce((a, b) => (offCentre(b) < offCentre(a) ? b : a));
}

/** The faces other than the subject, in the detector's order (highest score first). */
export function otherFaces(faces: readonly DetectedFace[], subject: Box): DetectedFace[] {
  return faces.filter((f) => f.box.x !== subject.x || f.box.y !== subject.y || f.box.width !== subject.width || f.box.height !== subject.height);
}

/** Other faces at least `ratio` of the subject's size: a second person as present as the subject. */
export function comparableFaces(faces: readonly DetectedFace[], subject: Box, ratio: number): DetectedFace[] {
  return otherFaces(faces, subject).filter((f) => boxSize(f.box) >= ratio * boxSize(subject));
}
