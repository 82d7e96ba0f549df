import { alignFace } from './align.js';
import { decodeImage, type DecodeLimits } from './decode.js';
import { detectFaces } from './detect.js';
import { embedFace } from './embed.js';
import { eyesOpen } from './eyes.js';
import { detectLandmarks, fivePoints } from './landmarks.js';
import { livenessScore } from './liveness.js';
import type { Sessions } from './models.js';
import { estimatePose } from './pose.js';
import { alignedFaceMetrics, assessFace, edgeMargin, issue } from './quality.js';
import type { Analysis, DetectedFace, Purpose, QualityThresholds } from './types.js';

export interface PipelineConfig {
  limits: DecodeLimits;
  quality: QualityThresholds;
  modelId: string;
}

/** What a worker returns: the liveness decision is taken on the main thread, where the threshold can change at run time. */
export type PipelineResult = Omit<Analysis, 'liveness'> & { livenessScore: number | null };

const area = (f: DetectedFace) => f.box.width * f.box.height;

/** 'match' takes the largest face (the subject of an ID photo or a crowd shot), sign-in and enrolment the most confident. */
function chooseFace(faces: DetectedFace[], purpose: Purpose): DetectedFace {
  return purpose === 'match' ? faces.reduce((a, b) => (area(b) > area(a) ? b : a)) : faces[0];
}

/** decode → detect → landmarks → align → embed → (liveness) → quality. Throws FaceError for undecodable or oversized input. */
export async function analyzeImage(s: Sessions, bytes: Uint8Array, purpose: Purpose, cfg: PipelineConfig): Promise<PipelineResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = now - t;
    t = now;
  };
  const start = t;

  const img = await decodeImage(bytes, cfg.limits);
  lap('decode');
  const faces = await detectFaces(s.detect, img);
  lap('detect');
  const base = { width: img.width, height: img.height, faces, modelId: cfg.modelId, timings };
  if (faces.length === 0) {
    timings.total = performance.now() - start;
    return { ...base, face: null, embedding: null, livenessScore: null, quality: { ok: false, issues: [issue('FACE_NOT_FOUND')], metrics: { faces: 0 } } };
  }

  const chosen = chooseFace(faces, purpose);
  const points = await detectLandmarks(s.landmark, img, chosen.box);
  const landmarks5 = fivePoints(points);
  lap('landmarks');
  const aligned = alignFace(img, landmarks5);
  lap('align');
  const embedding = await embedFace(s.feature, aligned);
  lap('embed');
  const live = purpose === 'enroll' ? null : await livenessScore(s.liveness, img, chosen.box);
  if (live !== null) lap('liveness');

  const pose = await estimatePose(s.pose, img, chosen.box, landmarks5);
  const [leftEye, rightEye] = await eyesOpen(s.eye, img, points);
  // A blink closes both eyes; one eye read as closed is usually a downcast gaze or glare.
  const eyes = Math.max(leftEye, rightEye);
  const { brightness, sharpness } = alignedFaceMetrics(aligned);
  const minOther = cfg.quality.multiFaceMinRatio * chosen.box.height;
  const measured = {
    otherFaces: faces.filter((f) => f !== chosen && f.box.height >= minOther).length,
    faceSize: Math.min(chosen.box.width, chosen.box.height),
    edgeMargin: edgeMargin(points, landmarks5, img.width, img.height),
    pose,
    brightness,
    sharpness,
    eyesOpen: eyes,
  };
  const issues = assessFace(measured, purpose, cfg.quality);
  lap('quality');
  timings.total = performance.now() - start;

  const metrics: Record<string, number> = {
    faces: faces.length,
    otherFaces: measured.otherFaces,
    detectScore: chosen.score,
    faceSize: measured.faceSize,
    edgeMargin: measured.edgeMargin,
    yaw: pose.yaw,
    pitch: pose.pitch,
    roll: pose.roll,
    brightness,
    sharpness,
    eyesOpen: eyes,
    eyeOpenLeft: leftEye,
    eyeOpenRight: rightEye,
  };
  return {
    ...base,
    face: { ...chosen, landmarks5, pose, eyesOpen: eyes },
    quality: { ok: issues.length === 0, issues, metrics },
    embedding,
    livenessScore: live,
  };
}
