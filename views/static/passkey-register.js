// "Add a passkey" on the account page and at the end of an invite enrollment.
import { register, supported } from './passkey-kit.js';

const root = document.querySelector('[data-passkey-register]');
const button = root.querySelector('[data-testid=passkey-register]');
const name = root.querySelector('input[name=name]');
const password = root.querySelector('input[name=password]');
const status = root.querySelector('[role=status]');
const say = (text, tone) => {
  status.textContent = text;
  status.className = `status notice notice-${tone}`;
};

if (!supported()) {
  say('This browser cannot create passkeys.', 'error');
} else if (root.dataset.enabled === 'true') {
  button.disabled = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    say(root.dataset.confirm === 'true' ? 'First confirm with one of your passkeys, then create the new one…' : 'Follow your device’s prompt to create the passkey…', 'info');
    const result = await register({ ...root.dataset, name: name ? name.value : '', ...(password ? { password: password.value } : {}) });
    if (result.ok) {
      say('Passkey added.', 'ok');
      location.assign(result.redirect);
      return;
    }
    if (result.redirect) {
      location.assign(result.redirect);
      return;
    }
    say(result.message, 'error');
    button.disabled = false;
  });
}
