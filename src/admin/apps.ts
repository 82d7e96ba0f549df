import type Router from '@koa/router';
import type { Context } from 'koa';
import { matchRulesSchema } from '../api/index.js';
import { ACR } from '../oidc/acr.js';
import { ClientError, SUPPORTED_SCOPES, type AuthMethod, type Client, type ClientInput, type GrantType } from '../oidc/clients.js';
import { isFapi2, type Requirement } from '../oidc/client-security.js';
import { HttpError } from '../web/errors.js';
import { recordAction } from './actions.js';
import type { AdminDeps } from './deps.js';
import { checked, field, fields, formOf, lines, page, redirectDone, sentence, type Form } from './page.js';

export const GRANT_TYPES: { value: GrantType; label: string }[] = [
  { value: 'authorization_code', label: 'Authorization code (people sign in)' },
  { value: 'client_credentials', label: 'Client credentials (backend, Face Match API)' },
];

export const ACR_CHOICES = [
  { value: '', label: 'Default (face)' },
  { value: ACR.password, label: 'Password only allowed' },
  { value: ACR.face, label: 'Face with liveness' },
  { value: ACR.mfa, label: 'Face and password' },
  { value: ACR.passkey, label: 'Passkey and face' },
];

/** What the form shows: a stored client, or what was typed when it was refused. */
interface AppValues {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  confidential: boolean;
  authMethod: string;
  requiredAcr: string;
  firstParty: boolean;
  allowPasswordOnly: boolean;
  allowPassiveFace: boolean;
  requiresProofing: boolean;
  matchEnrolledUsers: boolean;
  backchannelLogoutUri: string;
  backchannelLogoutSessionRequired: boolean;
  /** FAPI 2.0 building blocks: PAR, DPoP, the app's public keys (JWK Set text or jwks_uri), the preset. */
  par: Requirement;
  dpop: Requirement;
  jwks: string;
  jwksUri: string;
  fapi2: boolean;
  /** Face Match API decision rules; an empty minimum means the operator's settings decide. */
  match: { minSimilarity: string; livenessRequired: boolean; qualityRequired: boolean; documentRequired: boolean; otherFacesInSelfie: OtherFaces };
}

/** How a confidential app authenticates to the token endpoint. */
export const AUTH_CHOICES: { value: AuthMethod; label: string }[] = [
  { value: 'client_secret_basic', label: 'Secret, HTTP Basic (client_secret_basic)' },
  { value: 'client_secret_post', label: 'Secret, form body (client_secret_post)' },
  { value: 'private_key_jwt', label: "The app's private key (private_key_jwt; no secret)" },
];

const requirementOf = (value: string): Requirement => (value === 'required' ? 'required' : 'optional');

type OtherFaces = 'allow' | 'review' | 'decline';
const OTHER_FACES: readonly OtherFaces[] = ['allow', 'review', 'decline'];

const DEFAULT_MATCH: AppValues['match'] = { minSimilarity: '', livenessRequired: true, qualityRequired: false, documentRequired: false, otherFacesInSelfie: 'allow' };

function matchValuesOf(stored: unknown): AppValues['match'] {
  const parsed = matchRulesSchema.safeParse(stored ?? {});
  const rules = parsed.success ? parsed.data : {};
  return {
    minSimilarity: rules.minSimilarity === undefined ? '' : String(rules.minSimilarity),
    livenessRequired: rules.livenessRequired ?? true,
    qualityRequired: rules.qualityRequired ?? false,
    documentRequired: rules.documentRequired ?? false,
    otherFacesInSelfie: rules.otherFacesInSelfie ?? 'allow',
  };
}

/** The rules as stored, validated by the API's own schema. */
function matchRulesOf(match: AppValues['match']): Record<string, unknown> {
  const minimum = match.minSimilarity.trim();
  const parsed = matchRulesSchema.safeParse({
    ...(minimum ? { minSimilarity: Number(minimum) } : {}),
    livenessRequired: match.livenessRequired,
    qualityRequired: match.qualityRequired,
    documentRequired: match.documentRequired,
    otherFacesInSelfie: match.otherFacesInSelfie,
  });
  if (!parsed.success) throw new ClientError('INVALID_INPUT', 'the minimum similarity must be a number from 0 to 100');
  return parsed.data;
}

function valuesOf(c: Client): AppValues {
  return {
    name: c.name,
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris,
    grantTypes: c.grantTypes,
    scopes: c.scopes,
    confidential: c.tokenEndpointAuthMethod !== 'none',
    authMethod: c.tokenEndpointAuthMethod,
    requiredAcr: c.requiredAcr ?? '',
    firstParty: c.firstParty,
    allowPasswordOnly: c.allowPasswordOnly,
    allowPassiveFace: c.allowPassiveFace,
    requiresProofing: c.requiresProofing,
    matchEnrolledUsers: c.matchEnrolledUsers,
    backchannelLogoutUri: c.backchannelLogoutUri ?? '',
    backchannelLogoutSessionRequired: c.backchannelLogoutSessionRequired,
    par: c.parRequired ? 'required' : 'optional',
    dpop: c.dpopRequired ? 'required' : 'optional',
    jwks: c.jwks ? JSON.stringify(c.jwks, null, 2) : '',
    jwksUri: c.jwksUri ?? '',
    fapi2: isFapi2(c),
    match: matchValuesOf(c.matchRules),
  };
}

function valuesFrom(form: Form, existing?: Client): AppValues {
  const confidential = existing ? existing.tokenEndpointAuthMethod !== 'none' : field(form, 'client_type') !== 'public';
  return {
    name: field(form, 'name'),
    redirectUris: lines(form, 'redirect_uris'),
    postLogoutRedirectUris: lines(form, 'post_logout_redirect_uris'),
    grantTypes: fields(form, 'grant_types'),
    scopes: fields(form, 'scopes'),
    confidential,
    authMethod: confidential ? (AUTH_CHOICES.find((c) => c.value === field(form, 'auth_method'))?.value ?? 'client_secret_basic') : 'none',
    requiredAcr: field(form, 'required_acr'),
    firstParty: checked(form, 'first_party'),
    allowPasswordOnly: checked(form, 'allow_password_only'),
    allowPassiveFace: checked(form, 'allow_passive_face'),
    requiresProofing: checked(form, 'requires_proofing'),
    matchEnrolledUsers: checked(form, 'match_enrolled_users'),
    backchannelLogoutUri: field(form, 'backchannel_logout_uri'),
    backchannelLogoutSessionRequired: checked(form, 'backchannel_logout_session_required'),
    par: requirementOf(field(form, 'par')),
    dpop: requirementOf(field(form, 'dpop')),
    jwks: field(form, 'jwks'),
    jwksUri: field(form, 'jwks_uri'),
    fapi2: checked(form, 'fapi2'),
    match: {
      minSimilarity: field(form, 'match_min_similarity'),
      livenessRequired: checked(form, 'match_liveness_required'),
      qualityRequired: checked(form, 'match_quality_required'),
      documentRequired: checked(form, 'match_document_required'),
      otherFacesInSelfie: OTHER_FACES.find((o) => o === field(form, 'match_other_faces')) ?? 'allow',
    },
  };
}

function inputOf(v: AppValues): ClientInput {
  return {
    name: v.name,
    redirectUris: v.redirectUris,
    postLogoutRedirectUris: v.postLogoutRedirectUris,
    grantTypes: v.grantTypes as GrantType[],
    scopes: v.scopes,
    tokenEndpointAuthMethod: v.authMethod as AuthMethod,
    requiredAcr: v.requiredAcr || null,
    firstParty: v.firstParty,
    allowPasswordOnly: v.allowPasswordOnly,
    allowPassiveFace: v.allowPassiveFace,
    requiresProofing: v.requiresProofing,
    matchEnrolledUsers: v.matchEnrolledUsers,
    backchannelLogoutUri: v.backchannelLogoutUri || null,
    backchannelLogoutSessionRequired: v.backchannelLogoutSessionRequired,
    matchRules: matchRulesOf(v.match),
    par: v.par,
    dpop: v.dpop,
    jwks: v.jwks.trim() || null,
    jwksUri: v.jwksUri.trim() || null,
    fapi2: v.fapi2,
  };
}

/** Apps (OIDC clients): list, register (secret shown once), edit, rotate the secret, delete. */
export function appRoutes(router: Router, deps: AdminDeps): void {
  const choices = { grantChoices: GRANT_TYPES, scopeChoices: SUPPORTED_SCOPES, acrChoices: ACR_CHOICES, authChoices: AUTH_CHOICES };

  async function appParam(ctx: Context, editable = false): Promise<Client> {
    const client = await deps.clients.get(String(ctx.params.clientId));
    if (!client) throw new HttpError(404, 'APP_NOT_FOUND', 'This app does not exist (any more).');
    if (editable && client.builtIn) throw new HttpError(400, 'APP_BUILT_IN', `${client.name} is built in: the server manages it.`);
    return client;
  }

  router.get('/apps', async (ctx) => {
    await page(ctx, 'apps/list', { title: 'Apps', section: 'apps', apps: await deps.clients.list(), acrChoices: ACR_CHOICES, isFapi2 });
  });

  const renderForm = (ctx: Context, values: AppValues, client: Client | null, message: string | null = null, status = 200) =>
    page(ctx, 'apps/form', { title: client ? client.name : 'Register an app', section: 'apps', values, client, message, ...choices }, status);

  router.get('/apps/new', (ctx) =>
    renderForm(ctx, {
      name: '',
      redirectUris: [],
      postLogoutRedirectUris: [],
      grantTypes: ['authorization_code'],
      scopes: ['openid', 'profile', 'email'],
      confidential: true,
      authMethod: 'client_secret_basic',
      requiredAcr: '',
      firstParty: false,
      allowPasswordOnly: false,
      allowPassiveFace: false,
      requiresProofing: false,
      matchEnrolledUsers: false,
      backchannelLogoutUri: '',
      backchannelLogoutSessionRequired: false,
      par: 'optional',
      dpop: 'optional',
      jwks: '',
      jwksUri: '',
      fapi2: false,
      match: DEFAULT_MATCH,
    }, null),
  );

  router.post('/apps', async (ctx) => {
    const values = valuesFrom(formOf(ctx));
    let created;
    try {
      created = await deps.clients.create(inputOf(values));
    } catch (err) {
      if (err instanceof ClientError) return renderForm(ctx, values, null, sentence(err.message), 400);
      throw err;
    }
    const { client, clientSecret } = created;
    await recordAction(ctx, 'app.create', { clientId: client.clientId, details: { name: client.name, grantTypes: client.grantTypes, authMethod: client.tokenEndpointAuthMethod, parRequired: client.parRequired, dpopRequired: client.dpopRequired } });
    if (!clientSecret) return redirectDone(ctx, `/admin/apps/${encodeURIComponent(client.clientId)}`, 'app-saved');
    await page(ctx, 'apps/secret', { title: 'App registered', section: 'apps', client, clientSecret, issuer: deps.config.issuer, created: true });
  });

  router.get('/apps/:clientId', async (ctx) => {
    const client = await appParam(ctx);
    await renderForm(ctx, valuesOf(client), client);
  });

  router.post('/apps/:clientId', async (ctx) => {
    const client = await appParam(ctx, true);
    const values = valuesFrom(formOf(ctx), client);
    let saved: Client;
    try {
      saved = await deps.clients.update(client.clientId, inputOf(values));
    } catch (err) {
      if (err instanceof ClientError) return renderForm(ctx, values, client, sentence(err.message), 400);
      throw err;
    }
    const security = { authMethod: saved.tokenEndpointAuthMethod, parRequired: saved.parRequired, dpopRequired: saved.dpopRequired, jwksUri: saved.jwksUri, jwksKeys: (saved.jwks as { keys?: unknown[] } | null)?.keys?.length ?? 0 };
    await recordAction(ctx, 'app.update', { clientId: client.clientId, details: { name: values.name, redirectUris: values.redirectUris, grantTypes: values.grantTypes, scopes: values.scopes, requiredAcr: values.requiredAcr || null, firstParty: values.firstParty, matchRules: values.match, matchEnrolledUsers: values.matchEnrolledUsers, backchannelLogoutUri: values.backchannelLogoutUri || null, ...security } });
    redirectDone(ctx, `/admin/apps/${encodeURIComponent(client.clientId)}`, 'app-saved');
  });

  router.post('/apps/:clientId/rotate-secret', async (ctx) => {
    const client = await appParam(ctx, true);
    let clientSecret: string;
    try {
      clientSecret = await deps.clients.rotateSecret(client.clientId);
    } catch (err) {
      if (err instanceof ClientError) return renderForm(ctx, valuesOf(client), client, sentence(err.message), 400);
      throw err;
    }
    await recordAction(ctx, 'app.rotate_secret', { clientId: client.clientId });
    await page(ctx, 'apps/secret', { title: 'New secret', section: 'apps', client, clientSecret, issuer: deps.config.issuer, created: false });
  });

  router.get('/apps/:clientId/delete', async (ctx) => {
    const client = await appParam(ctx, true);
    await page(ctx, 'apps/delete', { title: `Delete ${client.name}`, section: 'apps', client });
  });

  router.post('/apps/:clientId/delete', async (ctx) => {
    const client = await appParam(ctx, true);
    await deps.clients.delete(client.clientId);
    await recordAction(ctx, 'app.delete', { clientId: client.clientId, details: { name: client.name } });
    redirectDone(ctx, '/admin/apps', 'app-deleted');
  });
}
