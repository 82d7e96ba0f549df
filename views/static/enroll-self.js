// Self-enrollment from an invite link: camera selfie, checked (quality and liveness) and kept in one step.
import { grabFrame, issueList, sendPhoto, startCamera, stopCamera } from './enroll-kit.js';

const root = document.getElementById('selfie');
const { photoUrl, csrf } = root.dataset;
const video = root.querySelector('[data-video]');
const frame = root.querySelector('[data-frame]');
const status = root.querySelector('[data-status]');
const shoot = root.querySelector('[data-shoot]');
let stream = null;
let issues = null;

function say(text, list = []) {
  status.textContent = text;
  if (issues) issues.remove();
  issues = list.length ? issueList(list) : null;
  if (issues) status.after(issues);
}

try {
  stream = await startCamera(video);
  say('Centre your face in the oval, then take your picture.');
  shoot.disabled = false;
} catch (err) {
  say(err.message);
}

shoot.addEventListener('click', async () => {
  shoot.disabled = true;
  frame.classList.remove('bad', 'ok');
  say('Checking your picture…');
  const photo = await grabFrame(video);
  const { status: code, body } = await sendPhoto(photoUrl, photo, csrf);
  if (code === 200) {
    frame.classList.add('ok');
    say('Done: your face is enrolled.');
    stopCamera(stream);
    location.assign(body.redirect);
    return;
  }
  frame.classList.add('bad');
  say(body.message || 'That did not work. Try again.', (body.verdict && body.verdict.issues) || []);
  shoot.disabled = false;
});
