import type { Analysis, Box, QualityIssue } from '../face/index.js';

/** What the person enrolling sees before a photo is accepted: the quality verdict and where faces were found. */
export interface PhotoVerdict {
  ok: boolean;
  issues: QualityIssue[];
  /** The face a template would come from; null when none was found. */
  face: { box: Box; score: number } | null;
  /** Every confident face, highest score first (a second one of comparable size means MULTIPLE_FACES). */
  faces: { box: Box; score: number }[];
  /** Of the EXIF-rotated image, the frame the boxes refer to. */
  width: number;
  height: number;
}

const round = (box: Box): Box => ({ x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) });

export function photoVerdict(a: Analysis): PhotoVerdict {
  return {
    ok: a.quality.ok && a.embedding !== null,
    issues: a.quality.issues,
    face: a.face ? { box: round(a.face.box), score: Number(a.face.score.toFixed(3)) } : null,
    faces: a.faces.map((f) => ({ box: round(f.box), score: Number(f.score.toFixed(3)) })),
    width: a.width,
    height: a.height,
  };
}
