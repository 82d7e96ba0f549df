// The embedding recipe: how the engine turns fr_feature's outputs into the vector it matches and stores. Free of
// onnxruntime, so the pool assembles on the main thread and the template store checks ids without loading models.
import type { Purpose } from './types.js';

/**
 * What a template's embedding is, stored beside the model id (`<model id>+flip`): the mean of the aligned face's
 * embedding and its mirror's. Embeddings of one model compare with each other whatever the recipe (see
 * `sameEmbeddingSpace`), so templates stored before the recipe changed keep matching.
 */
export const FLIP_RECIPE = 'flip';

/** The recipe id stored with templates made by this engine. */
export function recipeId(modelId: string): string {
  return `${modelId}+${FLIP_RECIPE}`;
}

/**
 * The purposes that embed a reference — an enrolment photo, the Face Match API's reference, a document portrait —
 * with its mirror. A probe ('verify': a sign-in frame, the API's selfie) is embedded once: averaging one side keeps
 * the gain (src/face/README.md, Mirror averaging), and a reference is embedded once per enrolment or request while
 * a probe is embedded on every sign-in.
 */
const MIRRORED_PURPOSES: readonly Purpose[] = ['enroll', 'match'];

export function mirrorsEmbedding(purpose: Purpose): boolean {
  return MIRRORED_PURPOSES.includes(purpose);
}

/** What an analysis for `purpose` embeds: the recipe id for a reference, the bare model id for a probe. */
export function embeddingId(modelId: string, purpose: Purpose): string {
  return mirrorsEmbedding(purpose) ? recipeId(modelId) : modelId;
}

/** The model part of a stored model/recipe id: `fr_feature@87aacdfe5751+flip` → `fr_feature@87aacdfe5751`. */
export function embeddingModel(id: string): string {
  const plus = id.indexOf('+');
  return plus < 0 ? id : id.slice(0, plus);
}

/** True when embeddings stored under these two ids come from one model and may be compared by cosine. */
export function sameEmbeddingSpace(a: string, b: string): boolean {
  return embeddingModel(a) === embeddingModel(b);
}

/** Scales `v` in place to unit length. */
export function l2normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/**
 * The embedding the engine matches with: the L2-normalised mean of the face's and its mirror's normalised
 * embeddings. Summed in this order wherever the two were computed, so the result does not depend on which worker
 * ran which.
 */
export function flipAveraged(face: Float32Array, mirror: Float32Array): Float32Array {
  if (face.length !== mirror.length) throw new RangeError(`embeddings of ${face.length} and ${mirror.length} values`);
  const v = new Float32Array(face.length);
  for (let i = 0; i < v.length; i++) v[i] = face[i] + mirror[i];
  return l2normalize(v);
}
