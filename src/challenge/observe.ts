import type { Analysis } from '../face/index.js';
import type { FramePurpose, Observation } from './types.js';

/**
 * The verifier's view of one analysed frame. A second subject is a face the engine counts as comparable to the
 * subject (its MULTIPLE_FACES rule, `quality.metrics.otherFaces`): a photo held next to the face, another person
 * leaning in; a bystander far behind is not one.
 */
export function observeAnalysis(a: Analysis, purpose: FramePurpose, t: number, sha256: string): Observation {
  const face = a.face;
  return {
    t,
    sha256,
    dhash: face ? face.fingerprint : null,
    subjects: face ? 1 + (a.quality.metrics.otherFaces ?? 0) : 0,
    landmarks: face ? face.landmarks68 : null,
    yaw: face?.pose ? face.pose.yaw : null,
    pitch: face?.pose ? face.pose.pitch : null,
    issues: a.quality.issues.map((i) => i.code),
    embedding: purpose === 'locate' ? null : a.embedding,
    liveness: purpose === 'verify' ? a.liveness : null,
    purpose,
  };
}
