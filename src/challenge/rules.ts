/**
 * Thresholds of the challenge verifier. Offsets are the nose tip's offset from the eye centre in inter-eye
 * distances (`noseOffset`, eye-line axes) against the person's own rest pose (the baseline); degrees are fr_pose's.
 * README.md ("Why these numbers") has the measurements behind them. In short:
 * - people answering a challenge turn sideways by a yaw change of median 48° (10th percentile 33°, smallest 19°) and
 *   nod by a pitch change of median 42° (10th percentile 12°, smallest 9°). On an average head the nose offset
 *   changes by about 0.55 × sin(angle): 0.16 is a 17° turn, 0.08 an 8–9° nod. A step asks for that and for fr_pose
 *   to agree (13° sideways, 7° vertically), so the smallest answers seen still pass;
 * - while turning sideways people's pitch drifts by median 19°, up to 30°: the axis a person is moving along is
 *   judged on raw offsets (not in units of the targets, which would make a turn's drift look like a nod), and a
 *   movement not asked for fails the challenge only when it clearly dominates for several frames;
 * - a movement must be seen travelling: frames between the rest pose and the peak, not a jump from one posed picture
 *   to another; a movement takes median 1.5 s (0.3–3.5 s), so at the page's 6–8 frames a second an ordinary answer
 *   shows several such frames each way, and two are asked for (out, and back or on to the next movement).
 */
export interface ChallengeRules {
  /** Offset and fr_pose change (from the rest pose) that complete a sideways step, and a vertical one. */
  sideOffset: number;
  sideDegrees: number;
  verticalOffset: number;
  verticalDegrees: number;
  /**
   * Progress (the offset along the movement in units of its target) at or below which a frame is at rest for the
   * movement: an attempt at a movement starts from such a frame, and one that falls back here before it counts
   * starts over.
   */
  restProgress: number;
  /** Travel frames: counted frames of an attempt whose progress lies this fraction of the span inside (rest, peak). */
  travelMargin: number;
  /**
   * A nod's frame that has left the rest pose also counts as travel when its foreshortening angle (`nodAngle`) is at
   * most this fraction of the attempt's largest: the nose offset of a nod down levels off past about 25°, the angle
   * does not. Lower than 1 − `travelMargin`: the angle is coarse (a few degrees), and pictures posed for one nod lie
   * close together.
   */
  nodTravelTop: number;
  /** Travel frames (distinct pictures, out and back together) a movement needs besides reaching its target. */
  minTravelFrames: number;
  /**
   * A movement not asked for fails the challenge only when, for `wrongFrames` frames in a row, it reaches
   * `wrongFactor` × its target while the other axis is near rest (`frontalOffset`), and the movement asked for has
   * made less than half its target.
   */
  wrongFactor: number;
  wrongFrames: number;
  /**
   * … counting from a frame that moved into it by at least this progress since the previous frame (`movingInto`):
   * a turn's pitch drift lingers while the head comes back, and a held pose only jitters (landmark noise is about
   * 0.01 of offset, 0.12 of a nod's target).
   */
  strayRise: number;
  /** Nose parallax (`noseParallax`) at the frame that completes a step, as a fraction of the offset change. */
  minParallaxRatio: number;
  /** Shift of the eyes on the face outline (`eyesOnOutline`) along the step, as a fraction of the offset change. */
  minRotationRatio: number;
  /** Frames that reach a step's target but fail the two checks above before the challenge fails. */
  maxFlatFrames: number;
  /** Offset change below which a failed 3-D check is not held against the frame (landmark noise dominates). */
  minSolidOffset: number;
  /** The other axis counts as near rest for a stray movement within this offset (`strayMovement`). */
  frontalOffset: number;
  /**
   * Back at rest at the end: each offset and each fr_pose angle within these of the rest pose. Looser than the
   * targets' scale suggests: people come back near, not exactly, to where they started.
   */
  returnOffset: number;
  returnDegrees: number;
  /**
   * … and come back from the last movement: its offset at most this fraction of the farthest the movement went. A
   * head still held at the target (a sway that just reached it) is not back, however loose the rest pose.
   */
  returnFraction: number;
  /** The baseline must look frontal in absolute terms: |yaw| and |nose offset along the eye line| within these. */
  startMaxYaw: number;
  startMaxOffset: number;
  /** Baseline frames that do not match the account's templates before the challenge fails with NO_MATCH. */
  baselineAttempts: number;
  /**
   * Largest eye-centre move between consecutive face frames, in face sizes (`faceSize`): a fixed part for landmark
   * jitter plus head speed × the time between the frames; the face size may change by `maxScaleJump` per frame. A
   * frame beyond that restarts the movement under way; beyond `brokenJumpFactor` × the limit (a cut to another
   * framing) it fails the challenge.
   */
  maxJump: number;
  maxJumpPerSecond: number;
  maxScaleJump: number;
  brokenJumpFactor: number;
  /** Time without a face tolerated once the challenge has started (blur, a profile at the end of a far turn), ms. */
  maxLostMs: number;
  /** Cosine of a step frame's embedding with the baseline's and the final frames', about FAR 1e-3 of fr_feature. */
  minContinuity: number;
  /** Cosine between the final frames' embeddings: two looks at the same frontal face. */
  minFinalAgreement: number;
  /** Frames closer than this are refused, not analysed: the page sends 6–8 a second. */
  minFrameIntervalMs: number;
  /**
   * The client's pause: from the server's answer to one frame to the arrival of the next. Longer than
   * `maxPauseMs` restarts the movement under way (a chosen frame cannot land after a wait); longer than
   * `maxFrameGapMs` ends the challenge (the camera stopped).
   */
  maxPauseMs: number;
  maxFrameGapMs: number;
  maxFrames: number;
  /** Final frames that must each be live and match the account (and each other) … */
  finalFrames: number;
  /** … out of at most this many looks at the rest pose. */
  finalAttempts: number;
}

export const DEFAULT_RULES: Readonly<ChallengeRules> = {
  sideOffset: 0.16,
  sideDegrees: 13,
  verticalOffset: 0.08,
  verticalDegrees: 7,
  restProgress: 0.4,
  travelMargin: 0.15,
  nodTravelTop: 0.7,
  minTravelFrames: 2,
  wrongFactor: 1.5,
  wrongFrames: 2,
  strayRise: 0.25,
  minParallaxRatio: 0.4,
  minRotationRatio: 0.45,
  maxFlatFrames: 3,
  minSolidOffset: 0.15,
  frontalOffset: 0.15,
  returnOffset: 0.22,
  returnDegrees: 20,
  returnFraction: 0.5,
  startMaxYaw: 15,
  startMaxOffset: 0.25,
  baselineAttempts: 3,
  maxJump: 0.15,
  maxJumpPerSecond: 6,
  maxScaleJump: 1.2,
  brokenJumpFactor: 2,
  maxLostMs: 2000,
  minContinuity: 0.35,
  minFinalAgreement: 0.5,
  minFrameIntervalMs: 100,
  maxPauseMs: 600,
  maxFrameGapMs: 5000,
  maxFrames: 400,
  finalFrames: 2,
  finalAttempts: 6,
};
