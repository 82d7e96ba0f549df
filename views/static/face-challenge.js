// The head-movement challenge of the sign-in's face step and of re-enrollment: the server drew a few movements; this
// page streams camera frames (4 a second, JPEG, not mirrored) and shows one instruction at a time from the server's
// answers. The server judges every frame on its own clock and decides. The page configures it with data-*.

import { explainCameraProblem, faceView, grabJpeg, openCamera, postForm } from './camera-kit.js';

const FRAME_EVERY_MS = 250;
const MAX_SIDE = 480;

const INSTRUCTIONS = {
  frontal: 'Look straight at the camera',
  left: 'Turn your head to your left',
  right: 'Turn your head to your right',
  up: 'Tip your head up',
  down: 'Tip your head down',
  done: 'Done',
};

/** Answers after which the page cannot go on by itself. */
const TERMINAL = new Set(['INTERACTION_EXPIRED', 'INTERACTION_MISMATCH', 'UNKNOWN_CLIENT', 'CSRF_TOKEN_INVALID', 'STEP_NOT_EXPECTED', 'FACE_LOCKED']);
/** Frames the server skipped: the next one simply follows. */
const SKIPPED = new Set(['FRAME_IN_PROGRESS', 'FRAME_TOO_FAST', 'FRAME_OUT_OF_ORDER', 'RATE_LIMITED', 'OVERLOADED']);

function setup(root) {
  const video = root.querySelector('video');
  const instruction = root.querySelector('[data-testid="face-instruction"]');
  const steps = root.querySelector('[data-testid="face-steps"]');
  const timeLeft = root.querySelector('[data-time-left]');
  const restart = root.querySelector('[data-testid="face-restart"]');
  const csrf = root.dataset.csrf;
  let challenge = root.dataset.challenge;
  let total = Number(root.dataset.total || 0);
  let deadline = 0;
  let streamer = null;
  let clock = null;
  let inFlight = false;
  let stepIndex = 0;

  const { state, say, outline } = faceView(root);

  function showStep(step, index) {
    stepIndex = index;
    root.dataset.step = step;
    const text = INSTRUCTIONS[step] || INSTRUCTIONS.frontal;
    if (instruction.textContent !== text) instruction.textContent = text;
    steps.replaceChildren(
      ...Array.from({ length: total }, (_, i) => {
        const li = document.createElement('li');
        li.className = i < stepIndex ? 'done' : i === stepIndex && step !== 'done' ? 'current' : '';
        li.setAttribute('aria-label', `Movement ${i + 1} of ${total}${i < stepIndex ? ', done' : ''}`);
        return li;
      }),
    );
  }

  function showTime() {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    timeLeft.textContent = String(left);
  }

  function stopStreaming() {
    clearInterval(streamer);
    clearInterval(clock);
    streamer = null;
  }

  const grab = () => grabJpeg(video, MAX_SIDE, 0.85);

  const post = (url, form) => postForm(url, form, csrf);

  function offerRestart(label, waitSeconds) {
    restart.classList.remove('hidden');
    restart.disabled = waitSeconds > 0;
    restart.textContent = label;
    if (waitSeconds > 0) {
      const until = Date.now() + waitSeconds * 1000;
      const tick = setInterval(() => {
        const left = Math.ceil((until - Date.now()) / 1000);
        if (left > 0) {
          restart.textContent = `Start again in ${left} s`;
          return;
        }
        clearInterval(tick);
        restart.textContent = label;
        restart.disabled = false;
      }, 1000);
    }
  }

  function ended(body, tone) {
    stopStreaming();
    // The movements completed stay marked: the user sees how far the answer got.
    showStep('done', stepIndex);
    instruction.textContent = 'Not verified';
    outline('bad');
    say(body.message || 'Something went wrong. Try again.', tone);
    if (body.redirect) {
      state('done');
      location.assign(body.redirect);
    } else if (TERMINAL.has(body.code)) {
      state('stopped');
    } else {
      state('failed');
      offerRestart('Start again', body.retryAfter || 0);
    }
  }

  async function sendFrame() {
    if (inFlight || document.hidden || !video.videoWidth || root.dataset.state !== 'streaming') return;
    inFlight = true;
    try {
      const form = new FormData();
      form.append('_csrf', csrf);
      form.append('challenge', challenge);
      form.append('frame', await grab(), 'frame.jpg');
      const { res, body } = await post(root.dataset.frameUrl, form);
      if (root.dataset.state !== 'streaming') return;
      if (body.progress) {
        deadline = Date.now() + body.progress.remainingMs;
        total = body.progress.total || total;
        showStep(body.progress.step, body.progress.stepIndex);
      }
      if (res.ok && body.redirect) {
        stopStreaming();
        outline('ok');
        say(root.dataset.doneMessage, 'ok');
        state('done');
        location.assign(body.redirect);
        return;
      }
      if (res.ok) {
        say(body.progress.hint, 'info');
        return;
      }
      if (SKIPPED.has(body.code)) return;
      ended(body, 'error');
    } catch {
      // A lost frame is followed by the next one; the server fails the challenge on a long gap.
    } finally {
      inFlight = false;
    }
  }

  function begin() {
    restart.classList.add('hidden');
    outline(null);
    deadline = Date.now() + Number(root.dataset.lifetimeMs || 0);
    showStep('frontal', 0);
    showTime();
    say('Look straight at the camera, with your whole face in the oval.', 'info');
    state('streaming');
    streamer = setInterval(() => void sendFrame(), FRAME_EVERY_MS);
    clock = setInterval(showTime, 250);
  }

  async function newChallenge() {
    restart.disabled = true;
    try {
      const { res, body } = await post(root.dataset.startUrl, new FormData());
      if (!res.ok) return ended(body, 'error');
      challenge = body.challenge.id;
      total = body.challenge.total;
      root.dataset.lifetimeMs = String(body.challenge.lifetimeMs);
      begin();
    } catch {
      say('Could not reach the server. Check your connection and try again.', 'error');
      restart.disabled = false;
    }
  }

  async function start() {
    try {
      await openCamera(video);
    } catch (err) {
      explainCameraProblem(err, say);
      return state('no-camera');
    }
    const wait = Number(root.dataset.retryAfter || 0);
    if (!challenge || wait > 0) {
      // The page opened during the wait after failed attempts: a challenge is drawn once it is over.
      state('failed');
      offerRestart('Start again', wait);
      return;
    }
    begin();
  }

  restart.addEventListener('click', () => void newChallenge());
  if (root.dataset.locked === 'true') state('stopped');
  else void start();
}

const root = document.querySelector('[data-face-challenge]');
if (root) setup(root);
