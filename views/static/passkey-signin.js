// "Sign in with a passkey" on the identifier page and the passkey step of an identified sign-in.
import { authenticate, supported } from './passkey-kit.js';

for (const root of document.querySelectorAll('[data-passkey-signin]')) {
  const button = root.querySelector('button');
  const status = root.querySelector('[role=status]');
  const say = (text, tone) => {
    status.textContent = text;
    status.className = `status notice notice-${tone}`;
  };
  if (!supported()) {
    // The identifier page simply keeps the option hidden; the passkey step has to say why it cannot go on.
    if (!root.classList.contains('hidden')) say('This browser cannot use passkeys. Use a browser or device that supports them.', 'error');
  } else {
    root.classList.remove('hidden');
    if (status.textContent.trim()) say('Ready: your device will ask you to unlock the passkey.', 'info');
    button.disabled = false;
    button.addEventListener('click', async () => {
      button.disabled = true;
      say('Waiting for your passkey…', 'info');
      const result = await authenticate(root.dataset);
      if (result.ok || result.redirect) {
        location.assign(result.redirect);
        return;
      }
      say(result.message, 'error');
      button.disabled = false;
    });
  }
}
