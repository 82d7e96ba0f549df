// Identity proofing: sends the document photo (multipart, the CSRF token in a header as the account pages expect)
// and follows the server's answer: the camera check, or the refusal's message.

import { sendPhoto } from './enroll-kit.js';

const form = document.querySelector('[data-proofing-document]');
if (form) {
  const status = form.querySelector('[data-testid="proofing-document-status"]');
  const button = form.querySelector('button[type="submit"]');
  const say = (text, error) => {
    status.textContent = text;
    status.classList.remove('hidden', 'notice-info', 'notice-error');
    status.classList.add(error ? 'notice-error' : 'notice-info');
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = form.querySelector('input[name="photo"]').files[0];
    const back = form.querySelector('input[name="back"]').files[0];
    if (!file) return say('Choose a photo of your document first.', true);
    button.disabled = true;
    say('Reading the document…', false);
    const { status: code, body } = await sendPhoto(form.dataset.url, back ? [file, back] : file, form.dataset.csrf);
    button.disabled = false;
    // The camera check next, or (a session older than the account pages allow for changes) signing in again first.
    if (body.redirect) {
      window.location.assign(body.redirect);
      return;
    }
    say(body.message || `The server answered ${code}.`, true);
  });
}
