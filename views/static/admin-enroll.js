// Admin enrollment: every photo (upload or camera) is checked first and shown with its verdict; "Add" keeps it.
import { drawVerdict, grabFrame, issueList, sendPhoto, startCamera } from './enroll-kit.js';

const root = document.getElementById('enroll');
const { previewUrl, enrollUrl, csrf } = root.dataset;
const maxBytes = Number(root.dataset.maxBytes);
const previews = root.querySelector('[data-previews]');
const status = root.querySelector('[data-status]');
const form = root.querySelector('[data-upload-form]');
const fileInput = form.querySelector('input[type=file]');

function megabytes(bytes) {
  return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
}

function button(label, className, testid) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  b.dataset.testid = testid;
  return b;
}

/** One photo: canvas with the detected faces, the verdict, and Add / Discard. */
async function review(photo, source) {
  const card = document.createElement('article');
  card.className = 'preview';
  card.dataset.testid = 'preview-card';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${source === 'camera' ? 'Camera picture' : photo.name} with the detected face marked`);
  const body = document.createElement('div');
  body.className = 'preview-body';
  const title = document.createElement('strong');
  title.textContent = source === 'camera' ? 'Camera picture' : photo.name;
  const verdictText = document.createElement('p');
  verdictText.className = 'small';
  verdictText.dataset.testid = 'preview-status';
  verdictText.setAttribute('role', 'status');
  verdictText.textContent = 'Checking…';
  const actions = document.createElement('div');
  actions.className = 'row';
  const add = button('Add to templates', 'primary', 'preview-accept');
  add.disabled = true;
  const discard = button('Discard', 'secondary', 'preview-discard');
  actions.append(add, discard);
  body.append(title, verdictText, actions);
  card.append(canvas, body);
  previews.prepend(card);
  discard.addEventListener('click', () => card.remove());

  if (photo.size > maxBytes) {
    card.classList.add('bad');
    verdictText.textContent = `This photo is ${megabytes(photo.size)}, over the limit of ${megabytes(maxBytes)}. Choose a smaller photo.`;
    return;
  }
  const { status: code, body: answer } = await sendPhoto(previewUrl, photo, csrf);
  await drawVerdict(canvas, photo, answer.verdict).catch(() => {});
  if (code !== 200) {
    card.classList.add('bad');
    verdictText.textContent = answer.message || 'The photo could not be checked.';
    return;
  }
  const { verdict } = answer;
  card.classList.add(verdict.ok ? 'ok' : 'bad');
  verdictText.textContent = verdict.ok
    ? `Good photo: one face found (confidence ${verdict.face.score.toFixed(2)}).`
    : verdict.faces.length > 1
      ? `${verdict.faces.length} faces found. This photo cannot be used:`
      : 'This photo cannot be used:';
  if (!verdict.ok) body.insertBefore(issueList(verdict.issues), actions);
  add.disabled = !verdict.ok;
  add.addEventListener('click', async () => {
    add.disabled = true;
    discard.disabled = true;
    verdictText.textContent = 'Adding…';
    const result = await sendPhoto(enrollUrl, photo, csrf, { source });
    if (result.status === 200) {
      verdictText.textContent = 'Added.';
      add.remove();
      discard.remove();
      // The template list is server-rendered: reload once nothing else waits for a decision.
      if (!previews.querySelector('[data-testid=preview-accept]:not(:disabled)')) location.assign(`${location.pathname}?done=enrolled`);
      return;
    }
    card.classList.replace('ok', 'bad');
    verdictText.textContent = result.body.message || 'The photo was not added.';
    discard.disabled = false;
  });
}

fileInput.multiple = true;
form.querySelector('[data-upload-submit]').classList.add('hidden');
fileInput.addEventListener('change', () => {
  for (const file of fileInput.files) review(file, 'upload');
  fileInput.value = '';
});
form.addEventListener('submit', (event) => event.preventDefault());

const camera = root.querySelector('[data-camera]');
const video = camera.querySelector('[data-video]');
const startButton = camera.querySelector('[data-camera-start]');
const shootButton = camera.querySelector('[data-camera-shoot]');
camera.classList.remove('hidden');
startButton.addEventListener('click', async () => {
  startButton.disabled = true;
  status.textContent = 'Starting the camera…';
  try {
    await startCamera(video);
    status.textContent = 'Ask the person to look at the camera, then take the photo.';
    shootButton.disabled = false;
    startButton.classList.add('hidden');
  } catch (err) {
    status.textContent = err.message;
    startButton.disabled = false;
  }
});
shootButton.addEventListener('click', async () => {
  const frame = await grabFrame(video);
  status.textContent = '';
  review(frame, 'camera');
});
// Lets people (and tests) know the enhanced controls are live.
root.dataset.ready = 'true';
