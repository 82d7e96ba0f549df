import * as oidc from 'openid-client';
import { Agent } from './browserless.js';

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

/**
 * Walks identifier → (face page: use the password instead) → password → consent with plain HTTP and returns the
 * redirect back to the app, at `callbackPath`. `base` lets the interaction continue on another instance than the
 * one that started it.
 */
export async function passwordSignIn(agent: Agent, start: Pick<AuthStart, 'url'>, email: string, password: string, base?: string, callbackPath = '/cb'): Promise<URL> {
  const appOrigin = (u: URL) => u.pathname === callbackPath;
  const rebase = (u: string) => (base ? new URL(new URL(u).pathname + new URL(u).search, base).href : u);
  let { res, url } = await agent.follow(start.url.href, {}, appOrigin);
  for (let i = 0; i < 6; i++) {
    if (new URL(url).pathname === callbackPath) return new URL(url);
    url = rebase(url);
    if (res.status >= 300 && res.status < 400) ({ res, url } = await agent.follow(url, {}, appOrigin));
    const html = await res.text();
    if (html.includes('data-testid="login-identifier"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email }, appOrigin));
    } else if (html.includes('data-testid="password-input"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+password)"/.exec(html)![1], { password }, appOrigin));
    } else if (html.includes('data-testid="use-password"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+use-password)"/.exec(html)![1], {}, appOrigin));
    } else if (html.includes('data-testid="consent-approve"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+consent)"/.exec(html)![1], {}, appOrigin));
    } else {
      throw new Error(`unexpected page ${url} (${res.status}): ${html.slice(0, 500)}`);
    }
  }
  throw new Error('sign-in did not return to the app');
}

export async function exchange(rp: RpClient, start: AuthStart, callback: URL) {
  return oidc.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: start.verifier, expectedState: start.state, expectedNonce: start.nonce });
}
