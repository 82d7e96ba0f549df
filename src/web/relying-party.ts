import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { randomToken } from '../store/crypto.js';
import type { KeyValueStore } from '../store/kv.js';
import { HttpError } from './errors.js';

export interface RpSession {
  sid: string;
  sub: string;
  claims: Record<string, unknown>;
  idToken: string;
  createdAt: number;
}

/** How long a started sign-in may take to come back to the callback. */
const FLOW_TTL = 900;

interface Flow {
  verifier: string;
  nonce: string;
  returnTo: string;
  /** The browser that started the sign-in (its binding cookie). */
  browser: string;
}

export interface RelyingPartyOptions {
  /** Cookie and key prefix, e.g. "demo" or "admin". */
  name: string;
  issuer: string;
  /** Where this server listens, for back-channel calls that must not leave the machine (e.g. behind a TLS proxy). */
  internalBase: () => string;
  clientId: string;
  redirectPath: string;
  postLogoutPath: string;
  scope: string;
  sessionTtl: number;
  kv: KeyValueStore;
}

/**
 * A public OIDC client (authorization code + PKCE, openid-client) that the built-in apps — the demo and the
 * admin console — use to sign people in through this very provider, exactly as an external app would.
 *
 * The state, nonce and PKCE verifier of a sign-in are kept server-side under its state and bound to the browser
 * that started it by a cookie: a callback arriving in another browser — an attacker's finished sign-in planted on a
 * victim (login CSRF) — is refused instead of signing that browser in as the attacker.
 */
export class RelyingParty {
  private config: Promise<oidc.Configuration> | null = null;
  private readonly secure: boolean;

  constructor(private readonly opts: RelyingPartyOptions) {
    this.secure = opts.issuer.startsWith('https:');
  }

  private get cookie() {
    return `fo_${this.opts.name}`;
  }

  private get bindingCookie() {
    return `fo_${this.opts.name}_flow`;
  }

  /** This browser's binding id: kept across sign-ins, so that several tabs can sign in at once. */
  private bindBrowser(ctx: Context): string {
    const id = ctx.cookies.get(this.bindingCookie, { signed: true }) || randomToken(24);
    ctx.cookies.set(this.bindingCookie, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: this.secure, maxAge: FLOW_TTL * 1000 });
    return id;
  }

  /** Calls to the issuer go to this server directly; the provider answers them as ISSUER whatever the Host. */
  private internalFetch: oidc.CustomFetch = (url, options) => {
    const target = new URL(url);
    if (target.origin === new URL(this.opts.issuer).origin) {
      const internal = new URL(this.opts.internalBase());
      target.protocol = internal.protocol;
      target.host = internal.host;
    }
    return fetch(target, options as RequestInit);
  };

  private configuration(): Promise<oidc.Configuration> {
    this.config ??= oidc
      .discovery(new URL(this.opts.issuer), this.opts.clientId, undefined, oidc.None(), {
        [oidc.customFetch]: this.internalFetch,
        execute: this.secure ? [] : [oidc.allowInsecureRequests],
      })
      .then((config) => {
        config[oidc.customFetch] = this.internalFetch;
        return config;
      })
      .catch((err) => {
        this.config = null;
        throw err;
      });
    return this.config;
  }

  private url(path: string) {
    return new URL(path, this.opts.issuer).href;
  }

  /** Redirects to the provider's authorization endpoint. */
  async login(ctx: Context, returnTo: string, extra: Record<string, string> = {}): Promise<void> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const flow: Flow = { verifier, nonce, returnTo, browser: this.bindBrowser(ctx) };
    await this.opts.kv.set(`rpflow:${this.opts.name}:${state}`, JSON.stringify(flow), FLOW_TTL);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.url(this.opts.redirectPath),
      scope: this.opts.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // The provider's session id for this app (OIDC Front-Channel Logout's `sid`), so the local session can end with it.
      claims: JSON.stringify({ id_token: { sid: null } }),
      ...extra,
    });
    ctx.redirect(url.href);
  }

  /** Completes the code flow and starts a session; returns where the user wanted to go. */
  async callback(ctx: Context): Promise<{ session: RpSession; returnTo: string }> {
    const state = String(ctx.query.state ?? '');
    const stored = state ? await this.opts.kv.take(`rpflow:${this.opts.name}:${state}`) : null;
    if (!stored) throw new HttpError(400, 'SIGN_IN_EXPIRED', 'This sign-in link has expired or was already used. Start again.');
    const { verifier, nonce, returnTo, browser } = JSON.parse(stored) as Flow;
    // Taken first: a planted callback also ends the attacker's flow.
    if (ctx.cookies.get(this.bindingCookie, { signed: true }) !== browser) {
      throw new HttpError(400, 'SIGN_IN_OTHER_BROWSER', 'This sign-in was started in another browser or window profile. Start it again here.');
    }
    if (ctx.query.error) {
      throw new HttpError(403, String(ctx.query.error).toUpperCase(), String(ctx.query.error_description ?? 'Sign-in was not completed.'));
    }
    const config = await this.configuration();
    const current = new URL(this.url(this.opts.redirectPath));
    current.search = ctx.querystring;
    const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims();
    if (!claims || !tokens.id_token) throw new HttpError(502, 'NO_ID_TOKEN', 'The provider returned no ID token.');
    const session: RpSession = { sid: randomToken(24), sub: claims.sub, claims: { ...claims }, idToken: tokens.id_token, createdAt: Date.now() };
    await this.opts.kv.set(`rpsess:${this.opts.name}:${session.sid}`, JSON.stringify(session), this.opts.sessionTtl);
    ctx.cookies.set(this.cookie, session.sid, { signed: true, httpOnly: true, sameSite: 'lax', secure: this.secure, maxAge: this.opts.sessionTtl * 1000 });
    return { session, returnTo: returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/' };
  }

  async session(ctx: Context): Promise<RpSession | null> {
    const sid = ctx.cookies.get(this.cookie, { signed: true });
    if (!sid) return null;
    const raw = await this.opts.kv.get(`rpsess:${this.opts.name}:${sid}`);
    return raw ? (JSON.parse(raw) as RpSession) : null;
  }

  /** Ends the local session only (the provider session it came from has ended). */
  async forget(ctx: Context, session: RpSession): Promise<void> {
    ctx.cookies.set(this.cookie, null, { signed: true });
    await this.opts.kv.del(`rpsess:${this.opts.name}:${session.sid}`);
  }

  /** Ends the local session and redirects through the provider's RP-initiated logout. */
  async logout(ctx: Context): Promise<void> {
    const session = await this.session(ctx);
    ctx.cookies.set(this.cookie, null, { signed: true });
    if (!session) return ctx.redirect(this.opts.postLogoutPath);
    await this.opts.kv.del(`rpsess:${this.opts.name}:${session.sid}`);
    const config = await this.configuration();
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: this.url(this.opts.postLogoutPath) });
    ctx.redirect(url.href);
  }
}
