import { alignFace } from './align.js';
import { assemble, SHARED_PURPOSES, type ModelInputs, type ModelOutputs, type PipelineConfig, type PipelineResult, type Prepared } from './assemble.js';
import { detectFaces } from './detect.js';
import { embedFace, mirrorFace } from './embed.js';
import { eyeInputs, eyesOpen } from './eyes.js';
import { detectLandmarks, fivePoints, type Point } from './landmarks.js';
import { livenessInput, livenessScore } from './liveness.js';
import type { Sessions } from './models.js';
import { headAngles, poseInput } from './pose.js';
import { regionDHash } from './fingerprint.js';
import { RecentDecode } from './recent-decode.js';
import { embeddingId, mirrorsEmbedding } from './recipe.js';
import { alignedFaceMetrics, assessFraming, edgeMargin, type Framing, issue } from './quality.js';
import { chooseSubject, comparableFaces } from './subject.js';
import type { DetectedFace, Purpose } from './types.js';

export type { PipelineConfig, PipelineResult } from './assemble.js';

/** Each worker thread has its own (a module instance per thread). */
const recent = new RecentDecode();

/** A stopwatch that adds each lap to a stage (a stage may be timed in several pieces). */
function stopwatch(timings: Record<string, number>) {
  let t = performance.now();
  return (stage: string) => {
    const now = performance.now();
    timings[stage] = (timings[stage] ?? 0) + now - t;
    t = now;
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
 * decode → detect → landmarks → align, and the inputs of the models the purpose runs. An analysis is complete here
 * when no face was found and for 'locate', which stops after the landmarks with the framing checks only (the pose
 * model and the embedding cost more than detection and landmarks together; the challenge asks for them only where
 * a frame may decide).
 * `handOff` receives the inputs that need only the subject's box (liveness, then pose) one by one as soon as each is
 * made, and for a reference purpose the mirrored aligned face, so that another worker runs those models while this
 * one finds the landmarks and embeds the face itself; they are then not in the result. Given `detections` (an
 * earlier analysis's faces of the same bytes), the detector is not run.
 * Throws FaceError for undecodable or oversized input.
 */
export async function prepare(
  s: Sessions,
  bytes: Uint8Array,
  purpose: Purpose,
  cfg: PipelineConfig,
  handOff?: (inputs: ModelInputs) => void,
  detections?: DetectedFace[],
): Promise<{ done: PipelineResult } | { prepared: Prepared }> {
  const timings: Record<string, number> = {};
  const start = performance.now();
  const lap = stopwatch(timings);
  const img = await recent.get(bytes, cfg.limits, { reuse: detections !== undefined });
  lap('decode');
  const faces = detections ?? (await detectFaces(s.detect, img));
  if (!detections) lap('detect');
  const base = { width: img.width, height: img.height, faces, modelId: embeddingId(cfg.modelId, purpose), timings };
  if (faces.length === 0) {
    timings.total = performance.now() - start;
    return { done: { ...base, face: null, embedding: null, livenessScore: null, quality: { ok: false, issues: [issue('FACE_NOT_FOUND')], metrics: { faces: 0 } } } };
  }

  const chosen = chooseSubject(faces, img.width, img.height);
  const inputs: ModelInputs = {};
  // Each box-only input is handed off as soon as it is made, so the other worker starts on liveness while this one
  // still crops for the pose.
  const share = handOff && SHARED_PURPOSES.includes(purpose) ? handOff : null;
  // Liveness answers whether a live person is in front of the camera: only a sign-in or API selfie ('verify') asks.
  if (purpose === 'verify') {
    const liveness = livenessInput(img, chosen.box);
    lap('liveness');
    if (share) share({ liveness });
    else inputs.liveness = liveness;
  }
  if (purpose !== 'locate') {
    const pose = poseInput(img, chosen.box);
    lap('quality');
    if (share) share({ pose });
    else inputs.pose = pose;
  }
  const landmarks68 = await detectLandmarks(s.landmark, img, chosen.box);
  const landmarks5 = fivePoints(landmarks68);
  const fingerprint = regionDHash(img, chosen.box);
  lap('landmarks');
  const measured = framing(base, chosen, landmarks68, landmarks5, cfg);
  if (purpose === 'locate') {
    const issues = assessFraming(measured, purpose, cfg.quality);
    timings.total = performance.now() - start;
    const quality = { ok: issues.length === 0, issues, metrics: { faces: faces.length, detectScore: chosen.score, ...measured } };
    return { done: { ...base, face: { ...chosen, landmarks68, landmarks5, fingerprint, pose: null }, quality, embedding: null, livenessScore: null } };
  }
  const aligned = alignFace(img, landmarks5);
  lap('align');
  if (mirrorsEmbedding(purpose)) {
    // A reference is embedded with its mirror (src/face/recipe.ts); the probes of sign-in are not.
    const mirror = mirrorFace(aligned);
    if (share) share({ mirror });
    else inputs.mirror = mirror;
  }
  inputs.feature = aligned;
  if (purpose !== 'turn') inputs.eyes = eyeInputs(img, landmarks68);
  const { brightness, sharpness } = alignedFaceMetrics(aligned);
  lap('quality');
  timings.total = performance.now() - start;
  return { prepared: { ...base, purpose, chosen, landmarks68, landmarks5, fingerprint, framing: measured, brightness, sharpness, inputs } };
}

/** Runs the models whose inputs are given (any subset of a preparation's). */
export async function infer(s: Sessions, inputs: ModelInputs): Promise<ModelOutputs> {
  const timings: Record<string, number> = {};
  const start = performance.now();
  const lap = stopwatch(timings);
  const out: ModelOutputs = { timings };
  if (inputs.feature) {
    out.embedding = await embedFace(s.feature, inputs.feature);
    lap('embed');
  }
  if (inputs.mirror) {
    out.mirrorEmbedding = await embedFace(s.feature, inputs.mirror);
    lap('embed');
  }
  if (inputs.liveness) {
    out.liveness = await livenessScore(s.liveness, inputs.liveness);
    lap('liveness');
  }
  if (inputs.pose) out.angles = await headAngles(s.pose, inputs.pose);
  if (inputs.eyes) out.eyes = await eyesOpen(s.eye, inputs.eyes);
  if (inputs.pose || inputs.eyes) lap('quality');
  timings.total = performance.now() - start;
  return out;
}

/** The whole analysis on one worker: each stage only where the purpose needs it. */
export async function analyzeImage(s: Sessions, bytes: Uint8Array, purpose: Purpose, cfg: PipelineConfig, detections?: DetectedFace[]): Promise<PipelineResult> {
  const first = await prepare(s, bytes, purpose, cfg, undefined, detections);
  if ('done' in first) return first.done;
  return assemble(first.prepared, [await infer(s, first.prepared.inputs)], cfg);
}
