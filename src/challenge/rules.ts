/**
 * Thresholds of the challenge verifier. Offsets are the nose tip's offset from the eye centre in inter-eye
 * distances (`noseOffset`), measured against the user's own frontal baseline; degrees are fr_pose's.
 * Where they come from (README.md has the figures):
 * - people asked to turn reach offsets of 0.4–0.65 sideways and 0.3–0.5 vertically, fr_pose ±40–70° yaw and ±40°
 *   pitch; a request for 15–20° is met by ordinary users; talking heads without instructions stay within ±0.2.
 *   A step therefore asks for 0.2 and 12°, well below what an answer reaches, and counts only the dominant axis.
 * - flat pictures turned or tilted up to 45° move the landmark offset by up to 0.2 (perspective and landmark
 *   bias) but fr_pose by 4–9°; a nose pushed sideways by a mesh warp moves fr_pose yaw by 4–8°. The degree
 *   targets keep both out, and the parallax rule below catches flat pictures independently.
 * - the nose of a real head moves out of the brow-and-eye plane by 0.5–1.3 times its offset change; a flat
 *   picture's by 0.15–0.35 (landmark noise and model bias): a step needs 0.4.
 * - the eyes of a real head move across its outline by 0.5–1.6 times the nose offset change (turns and nods);
 *   a picture with the nose and mouth pushed sideways or up by a mesh warp, by at most 0.2–0.5, a flat picture
 *   by ~0.1: a step needs 0.45.
 */
export interface ChallengeRules {
  sideOffset: number;
  sideDegrees: number;
  verticalOffset: number;
  verticalDegrees: number;
  /** Nose parallax (`noseParallax`) at the frame that completes a step, as a fraction of the offset change. */
  minParallaxRatio: number;
  /** Shift of the eyes on the face outline (`eyesOnOutline`) along the step, as a fraction of the offset change. */
  minRotationRatio: number;
  /** Frames that reach a step's target but fail the two checks above before the challenge fails. */
  maxFlatFrames: number;
  /** Frontal again, relative to the baseline: each offset and each angle within these. */
  frontalOffset: number;
  frontalDegrees: number;
  /** The baseline must look frontal in absolute terms: |yaw| and |nose offset along the eye line| within these. */
  startMaxYaw: number;
  startMaxOffset: number;
  /** Largest eye-centre move between consecutive face frames, inter-eye distances: a fixed part plus a speed × gap. */
  maxJump: number;
  maxJumpPerSecond: number;
  /** Largest change of the inter-eye distance between consecutive face frames, as a ratio. */
  maxScaleJump: number;
  /** Consecutive frames without a face tolerated once the challenge has started (blur at the end of a turn). */
  maxLostFrames: number;
  /** Cosine between consecutive evidence frames' embeddings (about FAR 1e-3 of fr_feature). */
  minContinuity: number;
  /** Frames closer than this are refused (not analysed); a gap longer than maxFrameGapMs ends the challenge. */
  minFrameIntervalMs: number;
  maxFrameGapMs: number;
  maxFrames: number;
  /** Frontal frames analysed at the end for passive liveness and the template match before giving up. */
  finalAttempts: number;
}

export const DEFAULT_RULES: Readonly<ChallengeRules> = {
  sideOffset: 0.2,
  sideDegrees: 12,
  verticalOffset: 0.2,
  verticalDegrees: 12,
  minParallaxRatio: 0.4,
  minRotationRatio: 0.45,
  maxFlatFrames: 2,
  frontalOffset: 0.1,
  frontalDegrees: 10,
  startMaxYaw: 15,
  startMaxOffset: 0.15,
  maxJump: 0.75,
  maxJumpPerSecond: 10,
  maxScaleJump: 1.35,
  maxLostFrames: 3,
  minContinuity: 0.35,
  minFrameIntervalMs: 40,
  maxFrameGapMs: 2000,
  maxFrames: 150,
  finalAttempts: 3,
};
