// Face step of the sign-in: camera preview, live guidance from the server's quality checks, and a capture of up to
// three frames sent with the page's one-time capture token. The page configures it with data-*.

import { explainCameraProblem, faceView, grabJpeg, openCamera, postForm } from './camera-kit.js';

const CHECK_EVERY_MS = 700;
/** Consecutive good checks before the first capture starts by itself. */
const OK_CHECKS_BEFORE_AUTO = 2;
const FRAMES = 3;
const FRAME_GAP_MS = 250;
const MAX_SIDE = 1280;


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(root) {
  const video = root.querySelector('video');
  const status = root.querySelector('[data-testid="face-status"]');
  const button = root.querySelector('[data-testid="face-capture"]');
  const csrf = root.dataset.csrf;
  let token = root.dataset.captureToken;
  let okChecks = 0;
  let checking = false;
  // An outcome message stays until the user acts; live guidance then only recolours the oval.
  let pinned = status.classList.contains('notice-error');
  // A page that opens with a refusal (e.g. the wait after failed attempts) never captures by itself.
  let autoCaptured = pinned;
  let blockedUntil = 0;
  let poller = null;

  const { state, say, outline } = faceView(root);
  const stop = (value) => {
    state(value);
    button.disabled = true;
    clearInterval(poller);
  };

  const grab = (quality) => grabJpeg(video, MAX_SIDE, quality);

  // Refusals also carry captureToken?, retryAfter?, redirect?.
  const post = (url, form) => postForm(url, form, csrf);

  function waitThenRetry(seconds) {
    blockedUntil = Date.now() + seconds * 1000;
    state('waiting');
    button.disabled = true;
    const tick = setInterval(() => {
      const left = Math.ceil((blockedUntil - Date.now()) / 1000);
      if (left > 0) {
        button.textContent = `Try again in ${left} s`;
        return;
      }
      clearInterval(tick);
      button.textContent = 'Try again';
      button.disabled = false;
      state('ready');
    }, 1000);
  }

  async function check() {
    if (checking || root.dataset.state !== 'ready' || document.hidden) return;
    checking = true;
    try {
      const form = new FormData();
      form.append('frame', await grab(0.8), 'check.jpg');
      const { res, body } = await post(root.dataset.checkUrl, form);
      if (root.dataset.state !== 'ready') return;
      if (!res.ok) {
        // Busy or rate-limited guidance is simply skipped; an ended sign-in is reported.
        if (res.status === 400 || res.status === 403 || res.status === 409) {
          say(body.message || 'This sign-in cannot continue. Reload the page.', 'error');
          stop('stopped');
        }
        return;
      }
      outline(body.ok ? 'ok' : 'bad');
      if (!pinned) say(body.hint, body.ok ? 'ok' : 'warn');
      okChecks = body.ok ? okChecks + 1 : 0;
      if (okChecks >= OK_CHECKS_BEFORE_AUTO && !autoCaptured) void capture();
    } catch {
      // Guidance is best effort: the capture itself reports any real problem.
    } finally {
      checking = false;
    }
  }

  async function submit(frames) {
    const form = new FormData();
    form.append('capture_token', token);
    form.append('_csrf', csrf);
    frames.forEach((blob, i) => form.append('frame', blob, `frame-${i}.jpg`));
    const reply = await post(root.dataset.captureUrl, form);
    if (reply.body.captureToken) token = reply.body.captureToken;
    return reply;
  }

  // A busy or stalled camera hands over the same picture again, which the server refuses as a replay: each frame
  // waits for the camera's next one (up to a second, then takes what it has).
  const nextFrame = () =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => (clearTimeout(timer), resolve()));
    });

  async function capture() {
    if (root.dataset.state !== 'ready' || !video.videoWidth) return;
    // Only the first capture may start by itself: retries are the user's decision (each failure counts).
    autoCaptured = true;
    pinned = false;
    state('capturing');
    button.disabled = true;
    say('Hold still…', 'info');
    try {
      const frames = [];
      for (let i = 0; i < FRAMES; i++) {
        if (i > 0) await sleep(FRAME_GAP_MS);
        await nextFrame();
        frames.push(await grab(0.9));
      }
      say('Checking…', 'info');
      let { body } = await submit(frames);
      // The page outlived its token; those frames were not used, so they may go again with the fresh one.
      if (body.code === 'CAPTURE_TOKEN_INVALID' && body.captureToken) ({ body } = await submit(frames));
      finish(body);
    } catch {
      say('Could not reach the server. Check your connection and try again.', 'error');
      button.disabled = false;
      state('ready');
    }
  }

  function finish(body) {
    if (!body.error && body.redirect) {
      outline('ok');
      say('Verified. Signing you in…', 'ok');
      stop('done');
      location.assign(body.redirect);
      return;
    }
    outline('bad');
    say(body.message || 'Something went wrong. Try again.', 'error');
    pinned = true;
    if (body.redirect) {
      stop('done');
      location.assign(body.redirect);
    } else if (!body.captureToken) {
      stop('stopped');
    } else if (body.retryAfter) {
      waitThenRetry(body.retryAfter);
    } else {
      button.textContent = 'Try again';
      button.disabled = false;
      state('ready');
    }
  }

  async function start() {
    try {
      await openCamera(video);
    } catch (err) {
      explainCameraProblem(err, say);
      return stop('no-camera');
    }
    state('ready');
    button.disabled = false;
    if (!pinned) say('Fit your face inside the oval', 'info');
    const wait = Number(root.dataset.retryAfter || 0);
    if (wait > 0) waitThenRetry(wait);
    poller = setInterval(check, CHECK_EVERY_MS);
  }

  button.addEventListener('click', () => void capture());
  if (root.dataset.locked === 'true') stop('stopped');
  else void start();
}

const root = document.querySelector('[data-face-capture]');
if (root) setup(root);
