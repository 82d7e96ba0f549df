// Passkey ceremonies for the sign-in, account and enrollment pages, on @simplewebauthn/browser (MIT), which the server
// serves from its own installed package under /static/vendor/webauthn/.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '/static/vendor/webauthn/index.js';

export const supported = () => browserSupportsWebAuthn();

/** What the browser's own refusals mean to a person (codes of @simplewebauthn/browser, or the DOMException name). */
const BROWSER_MESSAGES = {
  ERROR_CEREMONY_ABORTED: 'The passkey request was cancelled.',
  ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: 'This device already holds a passkey for your account.',
  ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT: 'This authenticator cannot store a passkey. Use another device or security key.',
  ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT: 'This authenticator cannot check that it is you (PIN or biometrics). Use another one.',
  NotAllowedError: 'The passkey request was cancelled or timed out. Try again.',
};

function browserMessage(err) {
  return BROWSER_MESSAGES[err.code] || BROWSER_MESSAGES[err.name] || BROWSER_MESSAGES[err.cause && err.cause.name] || 'Your browser could not use a passkey here.';
}

async function post(url, body, csrf) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body),
  });
  let json = {};
  try {
    json = await res.json();
  } catch {
    // An answer without JSON is reported by its status below.
  }
  return { ok: res.ok, status: res.status, body: json };
}

const refusal = (reply) => ({
  ok: false,
  code: (reply.body.error && reply.body.error.code) || `HTTP_${reply.status}`,
  message: (reply.body.error && reply.body.error.message) || 'That did not work. Try again.',
  redirect: reply.body.redirect,
});

/** Sign-in: options from the server, the authenticator's answer back; `{ ok, redirect }` or `{ ok: false, message }`. */
export async function authenticate({ optionsUrl, verifyUrl, csrf }) {
  const options = await post(optionsUrl, {}, csrf);
  if (!options.ok) return refusal(options);
  let response;
  try {
    response = await startAuthentication({ optionsJSON: options.body.options });
  } catch (err) {
    return { ok: false, code: 'BROWSER', message: browserMessage(err) };
  }
  const reply = await post(verifyUrl, { response }, csrf);
  return reply.ok ? { ok: true, redirect: reply.body.redirect } : refusal(reply);
}

/**
 * Registration: the same round trip with navigator.credentials.create and a friendly name. Where the server first
 * asks for one of the account's keys (`confirm`), that key answers and the options are asked for again with it.
 */
export async function register({ optionsUrl, verifyUrl, csrf, name, password }) {
  let options = await post(optionsUrl, password === undefined ? {} : { password }, csrf);
  if (!options.ok) return refusal(options);
  if (options.body.confirm) {
    let assertion;
    try {
      assertion = await startAuthentication({ optionsJSON: options.body.confirm });
    } catch (err) {
      return { ok: false, code: 'BROWSER', message: browserMessage(err) };
    }
    options = await post(optionsUrl, { assertion }, csrf);
    if (!options.ok) return refusal(options);
  }
  let response;
  try {
    response = await startRegistration({ optionsJSON: options.body.options });
  } catch (err) {
    return { ok: false, code: 'BROWSER', message: browserMessage(err) };
  }
  const reply = await post(verifyUrl, { response, name }, csrf);
  return reply.ok ? { ok: true, redirect: reply.body.redirect, passkey: reply.body.passkey } : refusal(reply);
}
