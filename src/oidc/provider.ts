import type { JWK } from 'jose';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { UserStore } from '../accounts/users.js';
import { STORE_RETRY_AFTER_SECONDS, unavailableStore } from '../store/unavailable.js';
import { renderView } from '../web/views.js';
import { ACR_VALUES, acrRank } from './acr.js';
import type { Adapter } from 'oidc-provider';
import { isLoopback, webOrigin } from './clients.js';
import { acrTarget, type ClientPolicy } from './policy.js';
import { CLIENT_ASSERTION_ALGS } from './client-security.js';
import { identityAssuranceMetadata, verifiedClaimsClaim, assertVerifiedClaimsRequest, type VerifiedClaimsSource } from './verified-claims.js';

/** DPoP proof algorithms, for the provider's endpoints and the Face Match API alike (src/api/dpop.ts). */
export const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA', 'PS256', 'RS256'] as const;

export interface ProviderDeps {
  config: Config;
  users: UserStore;
  adapter: (name: string) => Adapter;
  jwks: JWK[];
  cookieKeys: string[];
  /**
   * The person's remembered approval of the app covering `scopes` (first-party clients and clients with one skip the
   * consent screen), with the claims released beyond them; null when there is none.
   */
  approval(accountId: string, clientId: string, scopes: string[]): Promise<{ claims: string[] } | null>;
  /** What the account's identity proofing established, for `verified_claims` (src/proofing). */
  verifiedClaims: VerifiedClaimsSource;
}

const { Check, base } = interactionPolicy;

/**
 * The login prompt also runs when the session's assurance is below what the client or request asks for; the consent
 * prompt also runs for an app that requires a confirmed identity while the account holds no valid proofing (the
 * consent page then sends the person through the proofing flow first).
 */
function policy(proofingValid: (accountId: string) => Promise<boolean>) {
  const prompts = base();
  prompts.get('login')!.checks.add(
    new Check('acr_insufficient', 'a stronger authentication is required', (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
      const { minimum } = acrTarget(oidc.params?.acr_values as string | undefined, oidc.client as ClientPolicy | undefined);
      return acrRank(oidc.acr) < acrRank(minimum) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  prompts.get('consent')!.checks.add(
    new Check(
      'proofing_required',
      'the app requires a confirmed identity',
      async (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        const accountId = oidc.session?.accountId;
        if (!accountId || oidc.client?.['urn:face-oidc:requires_proofing'] !== true) return Check.NO_NEED_TO_PROMPT;
        return (await proofingValid(accountId)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
      () => ({ proofingRequired: true }),
    ),
  );
  return prompts;
}

/** Who may introspect or revoke a token: the client it was issued to, or a resource server. */
function mayActOnToken(client: { clientId: string; [property: string]: unknown }, token: { clientId?: string }): boolean {
  return token.clientId === client.clientId || client['urn:face-oidc:resource_server'] === true;
}

const STORE_OUTAGE_MESSAGE = 'The service is briefly unavailable; please try again in a moment.';

/**
 * The provider answers its own unexpected errors with 500 server_error; one caused by an unreachable PostgreSQL or
 * Redis becomes 503 temporarily_unavailable with Retry-After, like every other surface (src/web/errors.ts). The event
 * fires after the error body is set and before the response is sent; redirects back to the app keep their status.
 */
function storeOutageAnswer(ctx: KoaContextWithOIDC, err: Error): void {
  if (ctx.status !== 500 || !unavailableStore(err)) return;
  ctx.status = 503;
  ctx.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
  if (ctx.body && typeof ctx.body === 'object') ctx.body = { error: 'temporarily_unavailable', error_description: STORE_OUTAGE_MESSAGE };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, users } = deps;
  const developmentLoopback = new URL(config.issuer).protocol === 'http:';
  const configuration: Configuration = {
    adapter: deps.adapter as unknown as Configuration['adapter'],
    jwks: { keys: deps.jwks as never },
    cookies: {
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: async (_ctx, sub) => {
      const user = await users.byId(sub);
      if (!user || user.status !== 'ACTIVE') return undefined;
      return {
        accountId: user.id,
        // Accounts are created by administrators, who vouch for the address.
        claims: async (_use, _scope, requested, rejected) => ({
          sub: user.id,
          email: user.email,
          email_verified: true,
          name: user.name,
          preferred_username: user.email,
          ...(await verifiedClaimsClaim(deps.verifiedClaims, user.id, requested, rejected)),
        }),
      };
    },
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      // Only through the claims parameter, never by a scope (OpenID Connect for Identity Assurance 1.0).
      verified_claims: null,
    },
    discovery: identityAssuranceMetadata(),
    scopes: ['openid', 'profile', 'email', 'offline_access', 'face:match'],
    // Authorization code only: no implicit or hybrid flows that put tokens in URLs.
    responseTypes: ['code'],
    acrValues: ACR_VALUES,
    // What an app can register (src/oidc/clients.ts): a secret, its public keys (private_key_jwt) or none (public app).
    // client_secret_jwt is not offered: a shared secret that signs gains nothing over one that is sent.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: { clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS], dPoPSigningAlgValues: [...DPOP_ALGS] },
    extraClientMetadata: {
      properties: [
        'urn:face-oidc:first_party',
        'urn:face-oidc:allow_password_only',
        'urn:face-oidc:allow_passive_face',
        'urn:face-oidc:required_acr',
        'urn:face-oidc:resource_server',
        'urn:face-oidc:requires_proofing',
      ],
    },
    interactions: {
      policy: policy(async (accountId) => (await deps.verifiedClaims(accountId)) !== null),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true, assertClaimsParameter: async (_ctx, claims) => assertVerifiedClaimsRequest(claims) },
      introspection: {
        enabled: true,
        // A client learns about its own tokens; only resource servers learn about tokens issued to others.
        allowedPolicy: async (_ctx, client, token) => mayActOnToken(client, token),
      },
      revocation: {
        enabled: true,
        /**
         * The same rule as introspection: a client revokes its own tokens, a resource server those it may introspect
         * (e.g. a token it saw abused). A public client gets RFC 7009's 200 with nothing revoked, which tells it
         * nothing about someone else's token; an authenticated client is told it may not.
         */
        allowedPolicy: async (_ctx, client, token) => {
          if (mayActOnToken(client, token)) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      clientCredentials: { enabled: true },
      // Logout tokens go out through the queue in src/oidc/backchannel.ts, which retries them.
      backchannelLogout: { enabled: true },
      // FAPI 2.0 building blocks. PAR (RFC 9126) and DPoP (RFC 9449) are open to every app and required per app
      // (require_pushed_authorization_requests, dpop_bound_access_tokens); `iss` in the authorization response
      // (RFC 9207) is always sent.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false, allowUnregisteredRedirectUris: false },
      dPoP: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = await renderView('logout', { title: 'Sign out', form });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = await renderView('logged-out', { title: 'Signed out', clientName: ctx.oidc.client?.clientName });
        },
      },
    },
    // PKCE (S256) for confidential clients too: it also stops code injection, which a client secret does not (RFC 9700 §2.1.1).
    pkce: { required: () => true },
    // Refresh tokens for every client allowed the grant, always rotated (a replayed one revokes the grant).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) {
        const existing = await oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const accountId = oidc.session!.accountId;
      if (!accountId) return undefined;
      const requested = [...(oidc.requestParamScopes ?? [])];
      const client = oidc.client!;
      const approval = await deps.approval(accountId, client.clientId, requested);
      if (!client['urn:face-oidc:first_party'] && !approval) return undefined;
      const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope(requested.filter((s) => s !== 'face:match').join(' '));
      // Claims beyond the scopes (verified_claims) only where the person released them to this app, first party or not.
      grant.addOIDCClaims(['sub', 'acr', 'amr', 'auth_time', ...(approval?.claims ?? [])]);
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      ClientCredentials: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
    },
    renderError: async (ctx, out, err) => {
      const outage = unavailableStore(err) !== null;
      ctx.type = 'html';
      ctx.body = await renderView('error', {
        title: 'Sign-in error',
        error: outage ? 'temporarily_unavailable' : String(out.error),
        description: outage ? STORE_OUTAGE_MESSAGE : String(out.error_description ?? 'The request could not be completed.'),
      });
    },
    // oidc-provider refuses connections to special-use addresses (SSRF). A development provider (on http) may reach an
    // app on this machine: the http loopback back-channel logout URIs that client validation accepts only there.
    fetch: (url, init) => {
      if (developmentLoopback && isLoopback(new URL(url instanceof Request ? url.url : url))) delete (init as { dispatcher?: unknown } | undefined)?.dispatcher;
      return globalThis.fetch(url, init);
    },
    // Browsers may call the token, userinfo, introspection and revocation endpoints only from the origin of one of
    // the calling client's own redirect URIs; other origins are cut off before the provider (src/web/cors.ts).
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => webOrigin(uri) === origin) ?? false,
  };
  const provider = new Provider(config.issuer, configuration);
  // Its requests arrive with Host and X-Forwarded-* fixed to ISSUER and the resolved client address (src/web/issuer-origin.ts).
  provider.proxy = true;
  provider.on('server_error', storeOutageAnswer);
  return provider;
}
