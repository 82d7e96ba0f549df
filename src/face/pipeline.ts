import { alignFace } from './align.js';
import { decodeImage, type DecodeLimits } from './decode.js';
import { detectFaces } from './detect.js';
import { embedFace } from './embed.js';
import { eyesOpen } from './eyes.js';
import { detectLandmarks, fivePoints, type Point } from './landmarks.js';
import { livenessScore } from './liveness.js';
import type { Sessions } from './models.js';
import { estimatePose } from './pose.js';
import { alignedFaceMetrics, assessFace, assessFraming, edgeMargin, type Framing, issue } from './quality.js';
import { chooseSubject, comparableFaces } from './subject.js';
import type { Analysis, DetectedFace, Purpose, QualityThresholds } from './types.js';

export interface PipelineConfig {
  limits: DecodeLimits;
  quality: QualityThresholds;
  modelId: string;
}

/** What a worker returns: the liveness decision is taken on the main thread, where the threshold can change at run time. */
export type PipelineResult = Omit<Analysis, 'liveness'> & { livenessScore: number | null };

/**
 * 'locate' stops after the landmarks: where the subject is and how its features lie, with the framing checks only
 * (the pose model alone is a third of a tracked frame's cost; the challenge asks for it only where it decides).
 */
function located(base: Omit<PipelineResult, 'face' | 'embedding' | 'livenessScore' | 'quality'>, chosen: DetectedFace, landmarks68: Point[], landmarks5: Point[], cfg: PipelineConfig, start: number): PipelineResult {
  const measured = framing(base, chosen, landmarks68, landmarks5, cfg);
  const issues = assessFraming(measured, 'locate', cfg.quality);
  base.timings.total = performance.now() - start;
  return {
    ...base,
    face: { ...chosen, landmarks68, landmarks5, pose: null },
    quality: { ok: issues.length === 0, issues, metrics: { faces: base.faces.length, detectScore: chosen.score, ...measured } },
    embedding: null,
    livenessScore: null,
  };
}

/** Where the subject sits: comparable other faces, its size, and how close its landmarks come to the border. */
function framing(img: { faces: DetectedFace[]; width: number; height: number }, chosen: DetectedFace, landmarks68: Point[], landmarks5: Point[], cfg: PipelineConfig): Framing {
  return {
    otherFaces: comparableFaces(img.faces, chosen.box, cfg.quality.multiFaceMinRatio).length,
    faceSize: Math.min(chosen.box.width, chosen.box.height),
    edgeMargin: edgeMargin(landmarks68, landmarks5, img.width, img.height),
  };
}

/**
 * decode → detect → landmarks → align → embed → (liveness) → quality, each stage only where the purpose needs it.
 * Throws FaceError for undecodable or oversized input.
 */
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

  const chosen = chooseSubject(faces, img.width, img.height);
  const landmarks68 = await detectLandmarks(s.landmark, img, chosen.box);
  const landmarks5 = fivePoints(landmarks68);
  lap('landmarks');
  if (purpose === 'locate') return located(base, chosen, landmarks68, landmarks5, cfg, start);
  const aligned = alignFace(img, landmarks5);
  lap('align');
  let embedding: Float32Array | null = null;
  if (purpose !== 'track') {
    embedding = await embedFace(s.feature, aligned);
    lap('embed');
  }
  // Liveness answers whether a live person is in front of the camera: only a sign-in or API selfie ('verify') asks.
  let live: number | null = null;
  if (purpose === 'verify') {
    live = await livenessScore(s.liveness, img, chosen.box);
    lap('liveness');
  }

  const pose = await estimatePose(s.pose, img, chosen.box, landmarks5);
  // A blink closes both eyes; one eye read as closed is usually a downcast gaze or glare.
  const eyePair = purpose === 'track' ? null : await eyesOpen(s.eye, img, landmarks68);
  const eyes = eyePair ? Math.max(...eyePair) : undefined;
  const { brightness, sharpness } = alignedFaceMetrics(aligned);
  const measured = {
    ...framing(base, chosen, landmarks68, landmarks5, cfg),
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
    ...(eyePair && { eyesOpen: Math.max(...eyePair), eyeOpenLeft: eyePair[0], eyeOpenRight: eyePair[1] }),
  };
  return {
    ...base,
    face: { ...chosen, landmarks68, landmarks5, pose, ...(eyes !== undefined && { eyesOpen: eyes }) },
    quality: { ok: issues.length === 0, issues, metrics },
    embedding,
    livenessScore: live,
  };
}
