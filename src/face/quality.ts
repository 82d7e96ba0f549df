import { ALIGNED_SIZE } from './align.js';
import { toGray } from './image.js';
import type { Point } from './landmarks.js';
import type { Pose, Purpose, QualityCode, QualityIssue, QualityThresholds } from './types.js';

/** What the user is told for each code (the UI may translate by code). */
export const QUALITY_MESSAGES: Record<QualityCode, string> = {
  FACE_NOT_FOUND: 'No face found. Face the camera in good light.',
  MULTIPLE_FACES: 'More than one face is visible. Make sure only you are in the picture.',
  FACE_TOO_SMALL: 'Your face is too small in the picture. Move closer to the camera.',
  FACE_CLOSE_TO_BORDER: 'Your face is cut off. Centre your face in the frame.',
  FACE_ANGLE: 'Look straight at the camera and keep your head level.',
  TOO_DARK: 'The picture is too dark. Turn towards a light.',
  TOO_BRIGHT: 'The picture is too bright. Avoid strong light on your face or behind you.',
  BLURRY: 'The picture is blurry. Hold still and let the camera focus.',
  EYES_CLOSED: 'Keep your eyes open.',
  IMAGE_TOO_LARGE: 'The image is too large. Send a smaller picture.',
  UNSUPPORTED_IMAGE: 'The file is not a supported image. Send a JPEG, PNG or WebP photo.',
};

export function issue(code: QualityCode): QualityIssue {
  return { code, message: QUALITY_MESSAGES[code] };
}

// Inner face region of the aligned crop (eyes to mouth, cheek to cheek), free of background and zero border.
const INNER = { x0: 28, x1: 84, y0: 36, y1: 100 };

/**
 * Brightness (mean luma) and sharpness of the aligned face's inner region. Sharpness is the variance of the
 * 4-neighbour Laplacian with luma rescaled to a mean of 128, so exposure alone does not read as blur; the aligned
 * crop puts every face at the same scale, so it is comparable across image and face sizes.
 */
export function alignedFaceMetrics(aligned: Float32Array): { brightness: number; sharpness: number } {
  const n = ALIGNED_SIZE;
  const gray = toGray(aligned, n * n);
  let sum = 0;
  let lapSum = 0;
  let lapSq = 0;
  let count = 0;
  for (let y = INNER.y0; y < INNER.y1; y++) {
    for (let x = INNER.x0; x < INNER.x1; x++) {
      const i = y * n + x;
      const v = gray[i];
      const lap = gray[i - 1] + gray[i + 1] + gray[i - n] + gray[i + n] - 4 * v;
      sum += v;
      lapSum += lap;
      lapSq += lap * lap;
      count++;
    }
  }
  const brightness = sum / count;
  const lapMean = lapSum / count;
  const gain = 128 / Math.max(brightness, 1);
  return { brightness, sharpness: (lapSq / count - lapMean * lapMean) * gain * gain };
}

/**
 * Smallest landmark-to-edge distance in inter-eye distances (negative: outside the image). The detection box
 * shrinks to the visible part of a cut face, so the landmarks, which extrapolate, are the better witness.
 */
export function edgeMargin(points: Point[], landmarks5: Point[], width: number, height: number): number {
  const iod = Math.max(1, Math.hypot(landmarks5[1][0] - landmarks5[0][0], landmarks5[1][1] - landmarks5[0][1]));
  let min = Infinity;
  for (const [x, y] of points) min = Math.min(min, x, y, width - 1 - x, height - 1 - y);
  return min / iod;
}

/** Where the subject sits in the picture: all that 'locate' measures. */
export interface Framing {
  /** Other faces at least multiFaceMinRatio of the subject's size. */
  otherFaces: number;
  faceSize: number;
  edgeMargin: number;
}

export interface FaceMeasurements extends Framing {
  pose: Pose;
  brightness: number;
  sharpness: number;
  /** Absent when the purpose runs no eye model ('turn'). */
  eyesOpen?: number;
}

function effectiveThresholds(t: QualityThresholds, purpose: Purpose): Omit<QualityThresholds, 'enroll'> {
  const { enroll, ...base } = t;
  return purpose === 'enroll' ? { ...base, ...enroll } : base;
}

function framingCodes(m: Framing, purpose: Purpose, t: Omit<QualityThresholds, 'enroll'>): QualityCode[] {
  const codes: QualityCode[] = [];
  if (purpose !== 'match' && m.otherFaces > 0) codes.push('MULTIPLE_FACES');
  if (m.faceSize < t.minFaceSize) codes.push('FACE_TOO_SMALL');
  if (m.edgeMargin < t.minEdgeMargin) codes.push('FACE_CLOSE_TO_BORDER');
  return codes;
}

/** The framing issues alone, for 'locate'. */
export function assessFraming(m: Framing, purpose: Purpose, thresholds: QualityThresholds): QualityIssue[] {
  return framingCodes(m, purpose, effectiveThresholds(thresholds, purpose)).map(issue);
}

/** Issues in a fixed order: framing first, then pose, light, focus, eyes. */
export function assessFace(m: FaceMeasurements, purpose: Purpose, thresholds: QualityThresholds): QualityIssue[] {
  const t = effectiveThresholds(thresholds, purpose);
  const codes = framingCodes(m, purpose, t);
  if (Math.abs(m.pose.yaw) > t.maxYaw || Math.abs(m.pose.pitch) > t.maxPitch || Math.abs(m.pose.roll) > t.maxRoll) {
    codes.push('FACE_ANGLE');
  }
  if (m.brightness < t.minBrightness) codes.push('TOO_DARK');
  if (m.brightness > t.maxBrightness) codes.push('TOO_BRIGHT');
  if (m.sharpness < t.minSharpness) codes.push('BLURRY');
  if (m.eyesOpen !== undefined && m.eyesOpen < t.minEyesOpen) codes.push('EYES_CLOSED');
  return codes.map(issue);
}
