import type { FailureCode, Movement } from './types.js';

/** "left" is the user's own left: the page mirrors its preview, so the instruction reads naturally. */
const TURN: Record<Movement, string> = {
  left: 'Turn your head to your left',
  right: 'Turn your head to your right',
  up: 'Tilt your head up',
  down: 'Tilt your head down',
};

const FURTHER: Record<Movement, string> = {
  left: 'Turn further to your left',
  right: 'Turn further to your right',
  up: 'Tilt your head further up',
  down: 'Tilt your head further down',
};

export const HINTS = {
  start: 'Look straight at the camera',
  oval: 'Keep your whole face in the oval',
  closer: 'Move closer to the camera',
  oneFace: 'Only your face should be in view',
  return: 'Now look straight at the camera',
  hold: 'Hold still and look at the camera',
  passed: 'Done',
  turn: (m: Movement) => TURN[m],
  further: (m: Movement) => FURTHER[m],
};

/** What the user reads when a challenge fails: what to do next, never a score or which check tripped in detail. */
export function failureMessage(code: FailureCode, step: Movement | null): string {
  switch (code) {
    case 'CHALLENGE_EXPIRED':
      return 'Time is up. Start again and follow each instruction as it appears.';
    case 'NOT_FRONTAL':
      return 'Look straight at the camera, with your whole face in the oval, to begin.';
    case 'FACE_LOST':
    case 'FACE_JUMP':
      return 'Keep your whole face in the oval for the whole challenge.';
    case 'IDENTITY_CHANGED':
      return 'The face in view changed during the challenge. Start again with only your own face in view.';
    case 'MULTIPLE_FACES':
      return 'Only your face should be in view. Try again.';
    case 'WRONG_MOVEMENT':
      return step ? `Follow the instructions in order: ${TURN[step].toLowerCase()} when asked.` : 'Follow the instructions in order.';
    case 'TARGET_NOT_REACHED':
      return step ? `${FURTHER[step]}.` : 'Turn your head further when asked.';
    case 'NOT_THREE_DIMENSIONAL':
    case 'LIVENESS_FAILED':
      return 'We could not confirm a live face. Use your own camera in good light, and move your head, not the device.';
    case 'NO_RETURN':
      return 'Finish by looking straight at the camera.';
    case 'NO_MATCH':
      return 'Your face did not match this account.';
    case 'REPEATED_FRAME':
    case 'FRAME_GAP':
    case 'TOO_MANY_FRAMES':
      return 'The camera stream was interrupted. Start again.';
  }
}
