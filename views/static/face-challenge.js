// The head-movement challenge of the sign-in's face step and of re-enrollment: once the camera runs, the page asks
// the server to draw a few movements, streams camera frames (about 7 a second, JPEG, not mirrored; only new camera
// frames, never the same picture twice) and shows one instruction at a time from the server's answers. The server
// judges every frame on its own clock and decides. The page configures it with data-*.

import { explainCameraProblem, faceView, grabJpeg, openCamera, postForm } from './camera-kit.js';

/** About 7 frames a second: the verifier's pace (6–8/s), never closer than its 100 ms floor even with network jitter. */
const FRAME_EVERY_MS = 150;
const MAX_SIDE = 480;

const INSTRUCTIONS = {
  frontal: 'Look straight at the camera',
  left: 'Turn your head to your left',
  right: 'Turn your head to your right',
  up: 'Tilt your head up',
  down: 'Tilt your head down',
  done: 'Done',
};
/** After the last movement the server asks for the rest pose again. */
const RETURN = 'Now look straight at the camera';

/** True when two JPEGs are the same bytes: a stalled camera hands out the same picture again. */
function samePicture(a, b) {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Answers after which the page cannot go on by itself. */
const TERMINAL = new Set(['INTERACTION_EXPIRED', 'INTERACTION_MISMATCH', 'UNKNOWN_CLIENT', 'CSRF_TOKEN_INVALID', 'STEP_NOT_EXPECTED', 'FACE_LOCKED']);
/** Frames the server skipped: the next one simply follows. */
const SKIPPED = new Set(['FRAME_IN_PROGRESS', 'FRAME_TOO_FAST', 'FRAME_OUT_OF_ORDER', 'FRAME_STALLED', 'RATE_LIMITED', 'OVERLOADED']);

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
  let clock = null;
  let inFlight = false;
  let stepIndex = 0;
  /** Each begin() starts one stream; an older stream's callbacks see another generation and stop. */
  let generation = 0;
  let lastSentAt = 0;
  let lastFrameId = null;
  let lastBytes = null;

  const { state, say, outline } = faceView(root);

  function showStep(step, index) {
    stepIndex = index;
    root.dataset.step = step;
    const text = step === 'frontal' && total > 0 && index >= total ? RETURN : INSTRUCTIONS[step] || INSTRUCTIONS.frontal;
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
    generation++;
    clearInterval(clock);
    // The last second may not have been shown yet: "Time is up" must not sit beside "1 s".
    showTime();
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

  /** Sends the camera's current picture when it is new and the pace allows; `frameId` names the camera frame if known. */
  async function sendFrame(frameId) {
    if (inFlight || document.hidden || !video.videoWidth || root.dataset.state !== 'streaming') return;
    if (Date.now() - lastSentAt < FRAME_EVERY_MS || (frameId !== null && frameId === lastFrameId)) return;
    inFlight = true;
    try {
      const blob = await grab();
      const bytes = new Uint8Array(await blob.arrayBuffer());
      // The same picture again (a camera that stalls, or no new frame yet): wait for a new one.
      if (samePicture(lastBytes, bytes)) return;
      lastBytes = bytes;
      lastFrameId = frameId;
      lastSentAt = Date.now();
      const form = new FormData();
      form.append('_csrf', csrf);
      form.append('challenge', challenge);
      form.append('frame', blob, 'frame.jpg');
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
        // The instruction says what to do; the status line only adds a correction ("Turn further to your left").
        say(body.progress.hint && body.progress.hint !== instruction.textContent ? body.progress.hint : '', 'info');
        return;
      }
      if (SKIPPED.has(body.code)) return;
      ended(body, 'error');
    } catch {
      // A lost frame is followed by the next one; the server restarts a movement after a long gap.
    } finally {
      inFlight = false;
    }
  }

  /**
   * Streams at the page's pace from new camera frames only: `requestVideoFrameCallback` fires once per frame the
   * camera delivers, so a camera that stalls sends nothing; elsewhere a timer polls and identical pictures are skipped.
   */
  function stream() {
    const mine = ++generation;
    if ('requestVideoFrameCallback' in video) {
      const onFrame = (_now, meta) => {
        if (mine !== generation) return;
        void sendFrame(meta.presentedFrames ?? meta.mediaTime);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      return;
    }
    const timer = setInterval(() => (mine === generation ? void sendFrame(null) : clearInterval(timer)), FRAME_EVERY_MS / 3);
  }

  function begin() {
    restart.classList.add('hidden');
    outline(null);
    deadline = Date.now() + Number(root.dataset.lifetimeMs || 0);
    showStep('frontal', 0);
    showTime();
    say('Look straight at the camera, with your whole face in the oval.', 'info');
    state('streaming');
    lastBytes = null;
    lastFrameId = null;
    stream();
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
      state('failed');
      offerRestart('Start again', 0);
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
    if (wait > 0) {
      // The page opened during the wait after failed attempts: a challenge is drawn once it is over.
      state('failed');
      offerRestart('Start again', wait);
      return;
    }
    // Drawn now, by an explicit request, so nobody knows the movements before the camera runs.
    await newChallenge();
  }

  restart.addEventListener('click', () => void newChallenge());
  if (root.dataset.locked === 'true') state('stopped');
  else void start();
}

const root = document.querySelector('[data-face-challenge]');
if (root) setup(root);
