import * as oidc from 'openid-client';
import { Agent } from './browserless.js';
import { answerChallenge } from './challenge.js';

export interface RpClient {
  config: oidc.Configuration;
  redirectUri: string;
}

export async function discover(issuer: string, clientId: string, clientSecret: string | undefined, redirectUri: string): Promise<RpClient> {
  const config = await oidc.discovery(new URL(issuer), clientId, clientSecret, clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return { config, redirectUri };
}

export interface AuthStart {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationUrl(rp: RpClient, params: Record<string, string> = {}): Promise<AuthStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

/** What a person brings to the sign-in pages: the identifier, and the password and/or the camera frame asked for. */
export interface Credentials {
  email: string;
  password?: string;
  /** A JPEG posted as the face step's frame (what face-capture.js sends). */
  photo?: Buffer;
  /** Frames answering the head-movement challenge, in order (what face-challenge.js streams). */
  sequence?: Buffer[];
  /** Fields ticked on the consent page (e.g. `share_verified_claims: 'yes'`); none by default. */
  consent?: Record<string, string>;
}

/** Posts `photo` to the face page's capture endpoint; returns where the page would go next, or throws the refusal. */
async function captureOnPage(agent: Agent, url: string, html: string, photo: Buffer): Promise<string> {
  const form = new FormData();
  form.append('_csrf', /data-csrf="([^"]+)"/.exec(html)![1]);
  form.append('capture_token', /data-capture-token="([^"]+)"/.exec(html)![1]);
  form.append('frame', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'frame.jpg');
  const reply = await agent.request(new URL(/data-capture-url="([^"]+)"/.exec(html)![1], url).href, { method: 'POST', body: form, headers: { accept: 'application/json' } });
  const body = (await reply.json()) as { redirect?: string; error?: { code: string; message: string } };
  if (body.error || !body.redirect) throw new SignInRefused(reply.status, body.error?.code ?? 'UNKNOWN', body.error?.message ?? '');
  return new URL(body.redirect, url).href;
}

/** The face step refused the frame: status and machine code of the reply. */
export class SignInRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`sign-in refused (${status} ${code}): ${message}`);
  }
}

/**
 * Walks identifier → password → face → consent with plain HTTP and returns the redirect back to the app: any page
 * outside this server, or `callbackPath` for an app served by the server itself (the demo). Without a photo, the
 * face page's "use your password instead" is taken. `base` lets the interaction continue on another instance than
 * the one that started it.
 */
export async function signIn(agent: Agent, start: Pick<AuthStart, 'url'>, who: Credentials, base?: string, callbackPath?: string): Promise<URL> {
  const server = new URL(base ?? start.url.href).origin;
  const appOrigin = (u: URL) => (callbackPath ? u.pathname === callbackPath : u.origin !== server && u.origin !== start.url.origin);
  const rebase = (u: string) => (base ? new URL(new URL(u).pathname + new URL(u).search, base).href : u);
  let { res, url } = await agent.follow(start.url.href, {}, appOrigin);
  for (let i = 0; i < 8; i++) {
    if (appOrigin(new URL(url))) return new URL(url);
    url = rebase(url);
    if (res.status >= 300 && res.status < 400) ({ res, url } = await agent.follow(url, {}, appOrigin));
    const html = await res.text();
    if (html.includes('data-testid="login-identifier"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email: who.email }, appOrigin));
    } else if (html.includes('data-testid="password-input"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+password)"/.exec(html)![1], { password: who.password ?? '' }, appOrigin));
    } else if (html.includes('data-face-challenge') && who.sequence) {
      const reply = await answerChallenge(agent, url, html, who.sequence);
      if (!reply.body.redirect) throw new SignInRefused(reply.status, reply.body.error?.code ?? 'UNKNOWN', reply.body.error?.message ?? '');
      ({ res, url } = await agent.follow(new URL(reply.body.redirect, url).href, {}, appOrigin));
    } else if (html.includes('data-capture-url=') && who.photo) {
      ({ res, url } = await agent.follow(await captureOnPage(agent, url, html, who.photo), {}, appOrigin));
    } else if (html.includes('data-testid="use-password"') && !who.photo) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+use-password)"/.exec(html)![1], {}, appOrigin));
    } else if (html.includes('data-testid="consent-approve"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+consent)"/.exec(html)![1], who.consent ?? {}, appOrigin));
    } else {
      throw new Error(`unexpected page ${url} (${res.status}): ${html.slice(0, 500)}`);
    }
  }
  throw new Error('sign-in did not return to the app');
}

/** Identifier → (the face page's password alternative) → password → consent. */
export function passwordSignIn(agent: Agent, start: Pick<AuthStart, 'url'>, email: string, password: string, base?: string, callbackPath?: string): Promise<URL> {
  return signIn(agent, start, { email, password }, base, callbackPath);
}

export async function exchange(rp: RpClient, start: AuthStart, callback: URL) {
  return oidc.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce });
}
