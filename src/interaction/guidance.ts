import type { QualityCode, QualityIssue } from '../face/index.js';

/** Short live guidance under the camera preview; the full engine message is shown after a capture. */
const HINTS: Record<QualityCode, string> = {
  FACE_NOT_FOUND: 'Look at the camera',
  MULTIPLE_FACES: 'Only one face, please',
  FACE_TOO_SMALL: 'Move closer',
  FACE_CLOSE_TO_BORDER: 'Centre your face in the oval',
  FACE_ANGLE: 'Look straight at the camera',
  TOO_DARK: 'Too dark: turn towards a light',
  TOO_BRIGHT: 'Too bright: avoid light behind you',
  BLURRY: 'Hold still',
  EYES_CLOSED: 'Keep your eyes open',
  IMAGE_TOO_LARGE: 'The picture is too large',
  UNSUPPORTED_IMAGE: 'The picture could not be read',
};

export const READY_HINT = 'Hold still…';

export interface Guidance {
  ok: boolean;
  /** The first issue's code (issues come framing first, then pose, light, focus, eyes). */
  code: QualityCode | null;
  hint: string;
}

export function guidance(issues: QualityIssue[]): Guidance {
  const first = issues[0];
  return first ? { ok: false, code: first.code, hint: HINTS[first.code] } : { ok: true, code: null, hint: READY_HINT };
}
