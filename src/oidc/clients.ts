import { randomBytes } from 'node:crypto';
import type { AdapterPayload, ClientAuthMethod } from 'oidc-provider';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import { Prisma as P, type Client } from '../store/generated/client.js';
import { isAcr } from './acr.js';
import { resolveSecurity, SecurityError, type PublicJwks, type SecurityInput } from './client-security.js';

export type { Client };

export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'face:match'] as const;
export type GrantType = 'authorization_code' | 'client_credentials';
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
const AUTH_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

/** How an app proves who it is: a shared secret, its private key (private_key_jwt), or nothing (public app, PKCE). */
export const credentialKind = (method: string): 'secret' | 'keys' | 'public' => (method === 'none' ? 'public' : method === 'private_key_jwt' ? 'keys' : 'secret');

export class ClientError extends Error {
  constructor(
    readonly code: 'INVALID_INPUT' | 'NOT_FOUND' | 'BUILT_IN',
    message: string,
  ) {
    super(message);
  }
}

export interface ClientInput extends SecurityInput {
  name: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: GrantType[];
  scopes?: string[];
  /**
   * Defaults to a confidential client (client_secret_basic); `private_key_jwt` authenticates with the app's keys
   * (jwks or jwksUri) and has no secret; `none` makes a public client that must use PKCE.
   */
  tokenEndpointAuthMethod?: AuthMethod;
  requiredAcr?: string | null;
  firstParty?: boolean;
  allowPasswordOnly?: boolean;
  /** May sign in with the weaker passive face acr (one picture, no challenge): kiosks with a fixed camera. */
  allowPassiveFace?: boolean;
  /** Its users must hold a valid identity proofing before a sign-in to it completes (src/proofing). */
  requiresProofing?: boolean;
  matchRules?: Record<string, unknown> | null;
  /** May introspect tokens issued to other clients (an API that accepts this provider's access tokens). */
  resourceServer?: boolean;
  /** Face Match API: may match selfies against enrolled accounts (off unless an administrator allows it). */
  matchEnrolledUsers?: boolean;
  /** OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed; null removes it. */
  backchannelLogoutUri?: string | null;
  /** The logout token must carry the session's `sid`. */
  backchannelLogoutSessionRequired?: boolean;
}

export interface CreatedClient {
  client: Client;
  /** Shown once; only a sealed copy is kept. */
  clientSecret: string | null;
}

const SECRET_PURPOSE = 'client-secret';

/** Redirect URIs: absolute, no fragment; http(s) or a private-use scheme (reverse domain) for native apps. */
export function validateRedirectUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientError('INVALID_INPUT', `redirect URI "${uri}" is not an absolute URL`);
  }
  if (url.hash) throw new ClientError('INVALID_INPUT', `redirect URI "${uri}" must not contain a fragment`);
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'https' && scheme !== 'http' && !scheme.includes('.')) {
    throw new ClientError('INVALID_INPUT', `redirect URI "${uri}" must use https, http or a reverse-domain scheme`);
  }
  return uri;
}

const LOOPBACK_HOSTS = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Whether a URL names this machine (localhost or a loopback address). */
export const isLoopback = (url: URL) => LOOPBACK_HOSTS.test(url.hostname);

/**
 * A back-channel logout URI (Back-Channel Logout 1.0 §2.2): absolute, no fragment, https — or http to this machine
 * when `allowHttpLoopback` (a development provider, itself on http), where a test RP listens without TLS.
 */
export function validateBackchannelLogoutUri(uri: string, opts: { allowHttpLoopback: boolean }): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientError('INVALID_INPUT', `back-channel logout URI "${uri}" is not an absolute URL`);
  }
  if (url.hash || uri.includes('#')) throw new ClientError('INVALID_INPUT', `back-channel logout URI "${uri}" must not contain a fragment`);
  if (url.username || url.password) throw new ClientError('INVALID_INPUT', `back-channel logout URI "${uri}" must not contain credentials`);
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && opts.allowHttpLoopback && isLoopback(url)) return url.href;
  throw new ClientError(
    'INVALID_INPUT',
    opts.allowHttpLoopback
      ? `back-channel logout URI "${uri}" must use https (http only to localhost or a loopback address)`
      : `back-channel logout URI "${uri}" must use https`,
  );
}

/** The web origin of an http(s) redirect URI; null for native-app schemes, whose "origin" would be the opaque `null`. */
export function webOrigin(uri: string): string | null {
  try {
    const url = new URL(uri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

function normalize(input: ClientInput, rules: ClientRules, existing?: Client) {
  const name = input.name?.trim();
  if (!name || name.length > 200) throw new ClientError('INVALID_INPUT', 'an app name of 1 to 200 characters is required');
  const grantTypes = [...new Set(input.grantTypes ?? (existing?.grantTypes as GrantType[] | undefined) ?? ['authorization_code'])];
  for (const g of grantTypes) {
    if (g !== 'authorization_code' && g !== 'client_credentials') throw new ClientError('INVALID_INPUT', `unsupported grant type "${g}"`);
  }
  if (grantTypes.length === 0) throw new ClientError('INVALID_INPUT', 'at least one grant type is required');
  const interactive = grantTypes.includes('authorization_code');
  const redirectUris = [...new Set((input.redirectUris ?? existing?.redirectUris ?? []).map((u) => u.trim()).filter(Boolean))];
  redirectUris.forEach(validateRedirectUri);
  if (interactive && redirectUris.length === 0) throw new ClientError('INVALID_INPUT', 'apps that sign users in need at least one redirect URI');
  const postLogoutRedirectUris = [...new Set((input.postLogoutRedirectUris ?? existing?.postLogoutRedirectUris ?? []).map((u) => u.trim()).filter(Boolean))];
  postLogoutRedirectUris.forEach(validateRedirectUri);
  const defaultScopes = [...(interactive ? ['openid', 'profile', 'email', 'offline_access'] : []), ...(grantTypes.includes('client_credentials') ? ['face:match'] : [])];
  const scopes = [...new Set(input.scopes ?? existing?.scopes ?? defaultScopes)];
  for (const s of scopes) {
    if (!(SUPPORTED_SCOPES as readonly string[]).includes(s)) throw new ClientError('INVALID_INPUT', `unsupported scope "${s}"`);
  }
  const method = input.fapi2 ? 'private_key_jwt' : (input.tokenEndpointAuthMethod ?? (existing?.tokenEndpointAuthMethod as AuthMethod | undefined) ?? 'client_secret_basic');
  if (!AUTH_METHODS.includes(method)) {
    throw new ClientError('INVALID_INPUT', `unsupported token endpoint auth method "${method}"`);
  }
  if (method === 'none' && grantTypes.includes('client_credentials')) {
    throw new ClientError('INVALID_INPUT', 'client_credentials needs a confidential client (with a secret or private_key_jwt)');
  }
  const resourceServer = input.resourceServer ?? existing?.resourceServer ?? false;
  if (resourceServer && method === 'none') {
    throw new ClientError('INVALID_INPUT', 'a resource server must be a confidential client: it authenticates to introspect tokens');
  }
  const backchannelRaw = input.backchannelLogoutUri === undefined ? (existing?.backchannelLogoutUri ?? null) : input.backchannelLogoutUri?.trim() || null;
  const backchannelLogoutUri = backchannelRaw && validateBackchannelLogoutUri(backchannelRaw, rules);
  if (backchannelLogoutUri && !interactive) throw new ClientError('INVALID_INPUT', 'back-channel logout needs an app that signs people in (authorization_code)');
  const backchannelLogoutSessionRequired = input.backchannelLogoutSessionRequired ?? existing?.backchannelLogoutSessionRequired ?? false;
  if (backchannelLogoutSessionRequired && !backchannelLogoutUri) throw new ClientError('INVALID_INPUT', 'requiring sid in logout tokens needs a back-channel logout URI');
  const requiredAcr = input.requiredAcr === undefined ? (existing?.requiredAcr ?? null) : input.requiredAcr || null;
  if (requiredAcr && !isAcr(requiredAcr)) throw new ClientError('INVALID_INPUT', `unknown acr "${requiredAcr}"`);
  let security;
  try {
    const stored = existing && { parRequired: existing.parRequired, dpopRequired: existing.dpopRequired, jwks: existing.jwks as PublicJwks | null, jwksUri: existing.jwksUri };
    security = resolveSecurity(input, stored ?? null, { method, interactive });
  } catch (err) {
    if (err instanceof SecurityError) throw new ClientError('INVALID_INPUT', err.message);
    throw err;
  }
  return {
    name,
    redirectUris,
    postLogoutRedirectUris,
    grantTypes,
    scopes,
    tokenEndpointAuthMethod: method,
    requiredAcr,
    firstParty: input.firstParty ?? existing?.firstParty ?? false,
    allowPasswordOnly: input.allowPasswordOnly ?? existing?.allowPasswordOnly ?? false,
    allowPassiveFace: input.allowPassiveFace ?? existing?.allowPassiveFace ?? false,
    requiresProofing: input.requiresProofing ?? existing?.requiresProofing ?? false,
    resourceServer,
    matchEnrolledUsers: input.matchEnrolledUsers ?? existing?.matchEnrolledUsers ?? false,
    backchannelLogoutUri,
    backchannelLogoutSessionRequired,
    matchRules: (input.matchRules === undefined ? (existing?.matchRules ?? undefined) : (input.matchRules ?? undefined)) as P.InputJsonValue | undefined,
    parRequired: security.parRequired,
    dpopRequired: security.dpopRequired,
    jwks: security.jwks ? (security.jwks as unknown as P.InputJsonValue) : P.DbNull,
    jwksUri: security.jwksUri,
  };
}

/** Deployment facts the validation depends on. */
export interface ClientRules {
  /** http back-channel logout URIs to this machine are accepted (a development provider, itself on http). */
  allowHttpLoopback: boolean;
}

export class ClientStore {
  constructor(
    private readonly prisma: Prisma,
    private readonly sealer: Sealer,
    private readonly rules: ClientRules = { allowHttpLoopback: false },
  ) {}

  async create(input: ClientInput, opts: { clientId?: string; builtIn?: boolean } = {}): Promise<CreatedClient> {
    const data = normalize(input, this.rules);
    const clientId = opts.clientId ?? randomBytes(16).toString('base64url');
    const clientSecret = credentialKind(data.tokenEndpointAuthMethod) === 'secret' ? randomBytes(32).toString('base64url') : null;
    const client = await this.prisma.client.create({
      data: {
        ...data,
        clientId,
        builtIn: opts.builtIn ?? false,
        secret: clientSecret ? this.sealer.seal(Buffer.from(clientSecret), `${SECRET_PURPOSE}:${clientId}`) : null,
      },
    });
    return { client, clientSecret };
  }

  async update(clientId: string, input: Partial<ClientInput>): Promise<Client> {
    const existing = await this.require(clientId);
    const data = normalize({ name: existing.name, ...input } as ClientInput, this.rules, existing);
    const [before, after] = [credentialKind(existing.tokenEndpointAuthMethod), credentialKind(data.tokenEndpointAuthMethod)];
    if ((before === 'public') !== (after === 'public')) {
      throw new ClientError('INVALID_INPUT', 'an app cannot change between public and confidential; create a new one');
    }
    if (before === 'keys' && after === 'secret') {
      throw new ClientError('INVALID_INPUT', 'an app that authenticates with private_key_jwt cannot go back to a shared secret; create a new app');
    }
    // Moving from a secret to private_key_jwt drops the secret: from now on only the app's private key authenticates it.
    return this.prisma.client.update({ where: { clientId }, data: before === 'secret' && after === 'keys' ? { ...data, secret: null, secretRotatedAt: new Date() } : data });
  }

  async rotateSecret(clientId: string): Promise<string> {
    const existing = await this.require(clientId);
    if (!existing.secret) throw new ClientError('INVALID_INPUT', 'public clients have no secret');
    const clientSecret = randomBytes(32).toString('base64url');
    await this.prisma.client.update({
      where: { clientId },
      data: { secret: this.sealer.seal(Buffer.from(clientSecret), `${SECRET_PURPOSE}:${clientId}`), secretRotatedAt: new Date() },
    });
    return clientSecret;
  }

  get(clientId: string): Promise<Client | null> {
    return this.prisma.client.findUnique({ where: { clientId } });
  }

  /** What the Face Match API needs of a caller: its decision rules and when its secret last changed; null when it no longer exists. */
  apiCaller(clientId: string): Promise<{ matchRules: unknown; secretRotatedAt: Date | null; matchEnrolledUsers: boolean } | null> {
    return this.prisma.client.findUnique({ where: { clientId }, select: { matchRules: true, secretRotatedAt: true, matchEnrolledUsers: true } });
  }

  async require(clientId: string): Promise<Client> {
    const client = await this.get(clientId);
    if (!client) throw new ClientError('NOT_FOUND', `no app with client_id ${clientId}`);
    return client;
  }

  list(): Promise<Client[]> {
    return this.prisma.client.findMany({ orderBy: { createdAt: 'asc' } });
  }

  async delete(clientId: string): Promise<void> {
    const existing = await this.require(clientId);
    if (existing.builtIn) throw new ClientError('BUILT_IN', `${clientId} is built in and managed by the server`);
    await this.prisma.client.delete({ where: { clientId } });
  }

  /** Origins of every registered web redirect URI: the only origins browsers may call the provider from. */
  async webOrigins(): Promise<Set<string>> {
    const rows = await this.prisma.client.findMany({ select: { redirectUris: true } });
    return new Set(rows.flatMap((r) => r.redirectUris.map(webOrigin).filter((o): o is string => o !== null)));
  }

  /** oidc-provider client metadata for a stored client. */
  async metadata(clientId: string): Promise<AdapterPayload | undefined> {
    const c = await this.get(clientId);
    if (!c) return undefined;
    const interactive = c.grantTypes.includes('authorization_code');
    return {
      client_id: c.clientId,
      client_name: c.name,
      client_secret: c.secret ? this.sealer.open(c.secret, `${SECRET_PURPOSE}:${c.clientId}`).toString() : undefined,
      token_endpoint_auth_method: c.tokenEndpointAuthMethod as ClientAuthMethod,
      jwks: (c.jwks as PublicJwks | null) ?? undefined,
      jwks_uri: c.jwksUri ?? undefined,
      require_pushed_authorization_requests: c.parRequired,
      dpop_bound_access_tokens: c.dpopRequired,
      grant_types: interactive ? [...c.grantTypes, 'refresh_token'] : c.grantTypes,
      response_types: interactive ? ['code'] : [],
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      scope: c.scopes.join(' '),
      default_acr_values: c.requiredAcr ? [c.requiredAcr] : undefined,
      'urn:face-oidc:first_party': c.firstParty,
      'urn:face-oidc:allow_password_only': c.allowPasswordOnly,
      'urn:face-oidc:allow_passive_face': c.allowPassiveFace,
      'urn:face-oidc:requires_proofing': c.requiresProofing,
      'urn:face-oidc:required_acr': c.requiredAcr ?? undefined,
      'urn:face-oidc:resource_server': c.resourceServer,
      backchannel_logout_uri: c.backchannelLogoutUri ?? undefined,
      backchannel_logout_session_required: c.backchannelLogoutUri ? c.backchannelLogoutSessionRequired : undefined,
    };
  }
}
