import type { QualityThresholds } from './types.js';

export const DEFAULT_MAX_BYTES = 15 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 40_000_000;
/** p(live) ≥ 0.7: BPCER 3.0 %, APCER 0.7 % on 300 live / 300 spoof web photos (shared/DESIGN.md §4). */
export const DEFAULT_LIVENESS_THRESHOLD = 0.7;
export const DEFAULT_TASK_TIMEOUT_MS = 30_000;

/**
 * Quality defaults, set from measurements on the 68 single-face shared photos (shared/faces) as they are and
 * shrunk to 640 px, and on synthetic degradations of them (tables in src/face/README.md):
 * - minFaceSize 60 px (enroll 100): with faces shrunk to 47 px the deepface pairs still verify at TAR 100 %
 *   at cosine 0.411, at 35 px 97.9 %, at 29 px 91 %; templates keep ≥ 0.98 median similarity to full size from 71 px.
 * - minEdgeMargin 0.1 inter-eye distances: flags 68/68 faces cut 15 % into the box from the side, none with room.
 * - roll 25° (enroll 20°), yaw 30° (20°), pitch 30° (25°): no shared photo but the angled print attack (yaw 32°)
 *   exceeds the sign-in limits; faces rotated 40° are flagged 67/68.
 * - brightness 50..215: darkened ×0.25 68/68 and over-exposed ×2.2 are flagged, no original (98..193).
 * - minSharpness 60 (enroll 120): blur σ = 4 px at 640 px flagged 61/68, no original (min 216 at 640 px).
 * - minEyesOpen 0.3 on the more open eye: no original below 0.95; painted-over closed eyes read ≤ 0.11.
 * - multiFaceMinRatio 0.8 of the subject's size (sqrt of the box area): a bystander in the background measured 0.31,
 *   the faces behind a group selfie's taker 0.45–0.81 (the nearest one flags the selfie), people standing beside the
 *   subject 0.88–1.05 (table in src/face/README.md).
 */
export const DEFAULT_QUALITY: QualityThresholds = {
  minFaceSize: 60,
  multiFaceMinRatio: 0.8,
  minEdgeMargin: 0.1,
  maxYaw: 30,
  maxPitch: 30,
  maxRoll: 25,
  minBrightness: 50,
  maxBrightness: 215,
  minSharpness: 60,
  minEyesOpen: 0.3,
  enroll: { minFaceSize: 100, maxYaw: 20, maxPitch: 25, maxRoll: 20, minSharpness: 120 },
};

export function resolveQuality(q: Partial<QualityThresholds> | undefined): QualityThresholds {
  return { ...DEFAULT_QUALITY, ...q, enroll: { ...DEFAULT_QUALITY.enroll, ...q?.enroll } };
}
