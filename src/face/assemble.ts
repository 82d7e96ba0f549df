// The analysis put together from what the worker measured before the models and what the models said. Free of
// onnxruntime, so the pool can assemble on the main thread the analyses whose models ran on two workers at once.
import type { DecodeLimits } from './decode.js';
import type { Point } from './landmarks.js';
import { assessFace, type Framing } from './quality.js';
import { flipAveraged, mirrorsEmbedding } from './recipe.js';
import type { Analysis, DetectedFace, Purpose, QualityThresholds } from './types.js';

export interface PipelineConfig {
  limits: DecodeLimits;
  quality: QualityThresholds;
  /** fr_feature's model id; a reference's analysis carries its `recipeId` (src/face/recipe.ts). */
  modelId: string;
}

/** What a worker returns: the liveness decision is taken on the main thread, where the threshold can change at run time. */
export type PipelineResult = Omit<Analysis, 'liveness'> & { livenessScore: number | null };

/**
 * The purposes whose models split into a box-only half (liveness, pose; for a reference also the mirror's embedding)
 * and a landmark half (feature, eyes) of similar cost; 'turn' runs pose and the embedding only and 'locate' no model,
 * and the challenge's frames never share (nobody waits for their latency).
 */
export const SHARED_PURPOSES: readonly Purpose[] = ['verify', 'enroll', 'match'];

/**
 * The prepared input of each model the purpose runs (the aligned face is fr_feature's, before its normalisation).
 * For a reference fr_feature runs twice, on the aligned face and on its mirror: its graph takes a batch of one, and
 * the two runs may go to two workers.
 */
export interface ModelInputs {
  feature?: Float32Array;
  mirror?: Float32Array;
  liveness?: Float32Array;
  pose?: Float32Array;
  eyes?: [Float32Array | null, Float32Array | null];
}

export interface ModelOutputs {
  /** The normalised embeddings of the aligned face and (a reference) of its mirror; a reference's result holds their flipAveraged mean. */
  embedding?: Float32Array;
  mirrorEmbedding?: Float32Array;
  liveness?: number;
  angles?: { yaw: number; pitch: number };
  eyes?: [number, number];
  /** Milliseconds per stage (embed, liveness, quality), added to the preparation's. */
  timings: Record<string, number>;
}

/** An analysis up to its model inputs: what the image showed, and what the remaining models need. */
export interface Prepared {
  purpose: Purpose;
  width: number;
  height: number;
  faces: DetectedFace[];
  chosen: DetectedFace;
  landmarks68: Point[];
  landmarks5: Point[];
  /** dHash of the face box. */
  fingerprint: string;
  framing: Framing;
  brightness: number;
  sharpness: number;
  modelId: string;
  timings: Record<string, number>;
  inputs: ModelInputs;
}

/** In-plane rotation in degrees (clockwise positive) of the line from the image-left eye to the image-right eye. */
export function eyeLineRoll(landmarks5: Point[]): number {
  const [l, r] = landmarks5;
  return (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;
}

/** The inputs' buffers, transferred between threads rather than copied (each tensor has a buffer of its own). */
export function tensorBuffers(inputs: ModelInputs): ArrayBuffer[] {
  return [inputs.feature, inputs.mirror, inputs.liveness, inputs.pose, ...(inputs.eyes ?? [])].filter((t): t is Float32Array => !!t).map((t) => t.buffer as ArrayBuffer);
}

/** The embedding the engine matches with: a reference's mean with its mirror's, a probe's own. */
function matchingEmbedding(purpose: Purpose, out: Omit<ModelOutputs, 'timings'>): Float32Array | null {
  if (!mirrorsEmbedding(purpose)) return out.embedding ?? null;
  if (!out.embedding || !out.mirrorEmbedding) throw new Error('A reference analysis has one of its two fr_feature outputs only');
  return flipAveraged(out.embedding, out.mirrorEmbedding);
}

/** The quality verdict and the result, from the preparation and the outputs of every model it asked for. */
export function assemble(p: Prepared, outputs: ModelOutputs[], cfg: PipelineConfig): PipelineResult {
  const out: Omit<ModelOutputs, 'timings'> = Object.assign({}, ...outputs.map(({ timings: _, ...o }) => o));
  const timings = { ...p.timings };
  for (const o of outputs) for (const [stage, ms] of Object.entries(o.timings)) timings[stage] = (timings[stage] ?? 0) + ms;
  const angles = out.angles!;
  const pose = { yaw: angles.yaw, pitch: angles.pitch, roll: eyeLineRoll(p.landmarks5) };
  // A blink closes both eyes; one eye read as closed is usually a downcast gaze or glare.
  const eyes = out.eyes ? Math.max(...out.eyes) : undefined;
  const measured = { ...p.framing, pose, brightness: p.brightness, sharpness: p.sharpness, eyesOpen: eyes };
  const issues = assessFace(measured, p.purpose, cfg.quality);
  const metrics: Record<string, number> = {
    faces: p.faces.length,
    otherFaces: measured.otherFaces,
    detectScore: p.chosen.score,
    faceSize: measured.faceSize,
    edgeMargin: measured.edgeMargin,
    yaw: pose.yaw,
    pitch: pose.pitch,
    roll: pose.roll,
    brightness: p.brightness,
    sharpness: p.sharpness,
    ...(out.eyes && { eyesOpen: eyes!, eyeOpenLeft: out.eyes[0], eyeOpenRight: out.eyes[1] }),
  };
  return {
    width: p.width,
    height: p.height,
    faces: p.faces,
    modelId: p.modelId,
    timings,
    face: { ...p.chosen, landmarks68: p.landmarks68, landmarks5: p.landmarks5, fingerprint: p.fingerprint, pose, ...(eyes !== undefined && { eyesOpen: eyes }) },
    quality: { ok: issues.length === 0, issues, metrics },
    embedding: matchingEmbedding(p.purpose, out),
    livenessScore: out.liveness ?? null,
  };
}
