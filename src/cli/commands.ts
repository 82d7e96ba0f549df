import { readFile } from 'node:fs/promises';
import type { Config } from '../config/index.js';
import { matchRulesSchema } from '../api/index.js';
import { formatLivenessEval, runLivenessEval } from '../challenge/index.js';
import { type Enrollment, EnrollmentError } from '../biometrics/index.js';
import { FaceError, MATCH_PRESETS, runEval, type FaceEngine } from '../face/index.js';
import { AttemptAccounting } from '../verification/index.js';
import type { AuthMethod, GrantType } from '../oidc/clients.js';
import { isFapi2, type Requirement } from '../oidc/client-security.js';
import { listSigningKeys, rotateSigningKeys, signingKeyTimes } from '../oidc/keys.js';
import { createLogger } from '../ops/logger.js';
import { enrollmentService, openFaceEngine, openServices, type Services } from '../server/services.js';
import { startServer } from '../server/start.js';
import { withTemporaryServer } from '../server/temporary.js';
import { BENCHMARKS, formatBenchmarks, runBenchmarks, TARGETS, type BenchmarkName } from '../bench/index.js';
import { documentCommands } from './documents.js';
import { print, table } from './output.js';
import { UsageError } from './usage.js';

export interface Args {
  json: boolean;
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

function str(args: Args, name: string, required = false): string | undefined {
  const v = args.values[name];
  const value = Array.isArray(v) ? v.at(-1) : typeof v === 'string' ? v : undefined;
  if (required && !value) throw new UsageError(`--${name} is required`);
  return value;
}

function list(args: Args, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

async function withServices<T>(config: Config, fn: (s: Services) => Promise<T>): Promise<T> {
  // stdout carries the command's result; logs go to stderr.
  const services = await openServices(config, 'a face-oidc CLI command', { logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 2) });
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

async function withEngine<T>(config: Config, s: Services, fn: (engine: FaceEngine) => Promise<T>): Promise<T> {
  const engine = await openFaceEngine(config, s.settings, Math.min(2, config.face.poolSize));
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

interface Photo {
  file: string;
  bytes: Buffer;
}

/** Reads every photo before anything is written, so a missing file changes nothing. */
async function readPhotos(files: string[]): Promise<Photo[]> {
  return Promise.all(
    files.map(async (file) => {
      try {
        return { file, bytes: await readFile(file) };
      } catch (err) {
        throw new Error(`${file}: cannot read the photo (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
      }
    }),
  );
}

const refusal = (file: string, err: EnrollmentError | FaceError) =>
  err instanceof EnrollmentError
    ? `${file}: ${err.message} (${err.issues.map((i) => i.code).join(', ') || err.code})`
    : `${file}: ${err.message} (${err.code})`;

/**
 * Checks every photo as enrollment would first and refuses them all if one would be refused, naming each refused file
 * with its codes: a command that creates an account or templates from photos creates all of them or nothing.
 */
async function checkPhotos(enrollment: Enrollment, photos: Photo[]): Promise<void> {
  const refused: string[] = [];
  for (const { file, bytes } of photos) {
    try {
      await enrollment.check({ userId: null, image: bytes, source: 'cli', actor: { kind: 'cli' } });
    } catch (err) {
      const unreadable = err instanceof FaceError && (err.code === 'UNSUPPORTED_IMAGE' || err.code === 'IMAGE_TOO_LARGE');
      if (!(err instanceof EnrollmentError) && !unreadable) throw err;
      refused.push(refusal(file, err as EnrollmentError | FaceError));
    }
  }
  if (refused.length > 0) throw new Error(`${refused.join('; ')}. Nothing was changed.`);
}

/**
 * Enrolls photos already checked by checkPhotos. Enrollment needs a recorded biometric consent (GDPR Art. 9 /
 * BIPA): an operator enrolling someone from the CLI attests that the person consented, and that is recorded as
 * collected by "cli" (notice version, time) unless a consent is already on file.
 */
async function enrollPhotos(s: Services, enrollment: Enrollment, userId: string, photos: Photo[]) {
  if (photos.length === 0) return [];
  await s.consent.record(userId, { kind: 'cli' });
  const results = [];
  for (const { file, bytes } of photos) {
    try {
      const { template } = await enrollment.enroll({ userId, image: bytes, source: 'cli', actor: { kind: 'cli' } });
      results.push({ file, templateId: template.id, quality: Number(template.quality.toFixed(3)) });
    } catch (err) {
      if (err instanceof EnrollmentError) throw new Error(refusal(file, err), { cause: err });
      throw err;
    }
  }
  return results;
}

/** Runs `fn` with enrollment on a face engine when there are photos to analyse, and without one otherwise. */
async function withPhotoEngine<T>(config: Config, s: Services, photos: Photo[], fn: (enrollment: Enrollment | null) => Promise<T>): Promise<T> {
  return photos.length === 0 ? fn(null) : withEngine(config, s, (engine) => fn(enrollmentService(s, engine)));
}

/** --match-rules takes the Face Match API's per-client rules as JSON, checked by the API's own schema. */
function parseMatchRules(raw: string | undefined): Record<string, unknown> | null {
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError('--match-rules takes JSON, e.g. \'{"minSimilarity":75,"documentRequired":true}\'');
  }
  const parsed = matchRulesSchema.strict().safeParse(value);
  if (!parsed.success) throw new UsageError(`--match-rules: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** --par / --dpop: optional or required. */
function requirement(args: Args, name: string): Requirement | undefined {
  const value = str(args, name);
  if (value === undefined) return undefined;
  if (value !== 'optional' && value !== 'required') throw new UsageError(`--${name} takes optional or required`);
  return value;
}

/** --jwks takes the app's JWK Set as JSON or the path of a file holding it; the store checks the keys. */
async function readJwks(value: string | undefined): Promise<string | undefined> {
  if (value === undefined || value.trim().startsWith('{')) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (err) {
    throw new UsageError(`--jwks ${value}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export const commands: Record<string, (config: Config, args: Args) => Promise<void>> = {
  async start(config) {
    const server = await startServer(config);
    const lines = [`face-oidc is running at ${config.issuer} (listening on port ${server.port})`];
    if (config.demo) lines.push(`Demo app:        ${config.issuer}/demo`);
    lines.push(`Discovery:       ${config.issuer}/.well-known/openid-configuration`);
    if (server.bootstrapLink) {
      lines.push('', 'No administrator exists yet. Create the first one with this link (single use, valid for one hour,', 'only from this machine):', `  ${server.bootstrapLink}`);
    }
    process.stderr.write(`\n${lines.join('\n')}\n\n`);
    const stop = async (signal: string) => {
      server.services.logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    await new Promise(() => {});
  },

  async migrate(config, args) {
    await withServices(config, async (s) => {
      // openServices already applied pending migrations under the advisory lock; report the state.
      const report = await s.db.migrate();
      print(args.json, { database: s.db.kind, ...report }, `database ${s.db.kind}: up to date (${report.alreadyApplied.length} migrations)`);
    });
  },

  async 'user create'(config, args) {
    const email = str(args, 'email', true)!;
    const name = str(args, 'name', true)!;
    const photos = await readPhotos(list(args, 'photo'));
    await withServices(config, async (s) =>
      withPhotoEngine(config, s, photos, async (enrollment) => {
        if (enrollment) await checkPhotos(enrollment, photos);
        const user = await s.users.create({ email, name, password: str(args, 'password') ?? null, roles: args.values.admin ? ['admin'] : [] });
        let templates;
        try {
          templates = enrollment ? await enrollPhotos(s, enrollment, user.id, photos) : [];
        } catch (err) {
          // The photos passed the check, so this is an engine or database failure: leave no half-made account.
          await s.users.delete(user.id);
          throw err;
        }
        await s.audit.record({ type: 'admin.user.create', outcome: 'success', userId: user.id, details: { via: 'cli' } });
        print(args.json, { id: user.id, email: user.email, name: user.name, roles: user.roles, templates }, `created user ${user.email} (${user.id})${templates.length ? `, ${templates.length} face template(s)` : ''}`);
      }),
    );
  },

  async 'user enroll'(config, args) {
    const email = str(args, 'email', true)!;
    if (list(args, 'photo').length === 0) throw new UsageError('--photo FILE is required');
    const photos = await readPhotos(list(args, 'photo'));
    await withServices(config, async (s) => {
      const user = await s.users.require(email);
      await withPhotoEngine(config, s, photos, async (enrollment) => {
        await checkPhotos(enrollment!, photos);
        const templates = await enrollPhotos(s, enrollment!, user.id, photos);
        print(args.json, { id: user.id, email: user.email, templates }, `enrolled ${templates.length} face template(s) for ${user.email}`);
      });
    });
  },

  async 'user list'(config, args) {
    await withServices(config, async (s) => {
      const users = await s.users.listWithTemplateCounts();
      const rows = users.map((u) => ({ id: u.id, email: u.email, name: u.name, status: u.status, roles: u.roles.join(','), templates: u._count.templates, lastSignInAt: u.lastSignInAt }));
      print(args.json, rows, table(rows, ['email', 'name', 'status', 'roles', 'templates', 'lastSignInAt']));
    });
  },

  async 'user unlock'(config, args) {
    const email = str(args, 'email', true)!;
    await withServices(config, async (s) => {
      const user = await s.users.require(email);
      const attempts = new AttemptAccounting({ users: s.users, settings: s.settings, kv: s.kv });
      const cleared = await attempts.throttling(user.id);
      await attempts.unlockFace(user.id);
      await s.audit.record({ type: 'admin.user.face_unlock', outcome: 'success', userId: user.id, details: { via: 'cli', wasLocked: user.faceLockedAt !== null, cleared: cleared.map((t) => ({ factor: t.factor, origin: t.origin, failures: t.failures })) } });
      const out = { id: user.id, email: user.email, wasLocked: user.faceLockedAt !== null, cleared };
      print(args.json, out, `${user.email}: face sign-in enabled, ${cleared.length} failed-attempt counter(s) cleared${s.redis ? '' : ' (in-memory state: a running server keeps its own counters)'}`);
    });
  },

  async 'user delete'(config, args) {
    const email = str(args, 'email', true)!;
    await withServices(config, async (s) => {
      const user = await s.users.require(email);
      // As the console's deletion: the biometric traces outside the cascade (Face Match records, replay hashes) first.
      const erased = await s.consent.withdraw(user.id);
      await s.users.delete(user.id);
      await s.audit.record({ type: 'admin.user.delete', outcome: 'success', userId: user.id, details: { via: 'cli', ...erased } });
      print(args.json, { deleted: user.id, email: user.email }, `deleted ${user.email} with its face templates and consents`);
    });
  },

  async 'client create'(config, args) {
    const grants = list(args, 'grant') as GrantType[];
    const matchRules = parseMatchRules(str(args, 'match-rules'));
    const security = { par: requirement(args, 'par'), dpop: requirement(args, 'dpop'), jwks: await readJwks(str(args, 'jwks')), jwksUri: str(args, 'jwks-uri'), fapi2: Boolean(args.values.fapi2) };
    await withServices(config, async (s) => {
      const { client, clientSecret } = await s.clients.create({
        name: str(args, 'name', true)!,
        redirectUris: list(args, 'redirect-uri'),
        postLogoutRedirectUris: list(args, 'post-logout-redirect-uri'),
        grantTypes: grants.length ? grants : undefined,
        scopes: list(args, 'scope').length ? list(args, 'scope').flatMap((s) => s.split(' ')) : undefined,
        tokenEndpointAuthMethod: args.values.public ? 'none' : ((str(args, 'auth-method') as AuthMethod | undefined) ?? undefined),
        firstParty: Boolean(args.values['first-party']),
        allowPasswordOnly: Boolean(args.values['allow-password']),
        allowPassiveFace: Boolean(args.values['allow-passive-face']),
        resourceServer: Boolean(args.values['resource-server']),
        matchEnrolledUsers: Boolean(args.values['match-enrolled-users']),
        requiresProofing: Boolean(args.values['requires-proofing']),
        requiredAcr: str(args, 'acr') ?? null,
        matchRules,
        backchannelLogoutUri: str(args, 'backchannel-logout-uri') ?? null,
        backchannelLogoutSessionRequired: Boolean(args.values['backchannel-logout-session-required']),
        ...security,
      });
      await s.audit.record({ type: 'admin.client.create', outcome: 'success', clientId: client.clientId, details: { via: 'cli' } });
      const out = { client_id: client.clientId, client_secret: clientSecret, name: client.name, redirect_uris: client.redirectUris, grant_types: client.grantTypes, scope: client.scopes.join(' '), resource_server: client.resourceServer, match_enrolled_users: client.matchEnrolledUsers,
        token_endpoint_auth_method: client.tokenEndpointAuthMethod, jwks_uri: client.jwksUri, require_pushed_authorization_requests: client.parRequired, dpop_bound_access_tokens: client.dpopRequired, fapi2: isFapi2(client) };
      const none = client.tokenEndpointAuthMethod === 'private_key_jwt' ? '(none: the app authenticates with private_key_jwt)' : '(public client: none)';
      print(args.json, out, `client_id:     ${out.client_id}\nclient_secret: ${out.client_secret ?? none}${out.client_secret ? '\n(the secret is shown only now; store it safely)' : ''}${out.fapi2 ? '\nFAPI 2.0: private_key_jwt, PAR and DPoP required' : ''}`);
    });
  },

  async 'client list'(config, args) {
    await withServices(config, async (s) => {
      const rows = (await s.clients.list()).map((c) => ({ client_id: c.clientId, name: c.name, type: c.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential', grant_types: c.grantTypes.join(','), redirect_uris: c.redirectUris.join(' '), built_in: c.builtIn, resource_server: c.resourceServer, token_endpoint_auth_method: c.tokenEndpointAuthMethod, fapi2: isFapi2(c) }));
      print(args.json, rows, table(rows, ['client_id', 'name', 'type', 'grant_types', 'resource_server', 'redirect_uris']));
    });
  },

  async 'client backchannel-logout'(config, args) {
    const clientId = str(args, 'client-id') ?? args.positionals[0];
    if (!clientId) throw new UsageError('--client-id is required');
    const uri = str(args, 'backchannel-logout-uri');
    if (!uri === !args.values.off) throw new UsageError('give either --backchannel-logout-uri URI or --off');
    await withServices(config, async (s) => {
      if ((await s.clients.require(clientId)).builtIn) throw new UsageError(`${clientId} is built in and managed by the server`);
      const sessionRequired = Boolean(args.values['backchannel-logout-session-required']);
      const client = await s.clients.update(clientId, { backchannelLogoutUri: uri ?? null, backchannelLogoutSessionRequired: uri ? sessionRequired : false });
      const out = { client_id: client.clientId, backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: client.backchannelLogoutSessionRequired };
      await s.audit.record({ type: 'admin.client.update', outcome: 'success', clientId, details: { via: 'cli', ...out } });
      print(args.json, out, out.backchannel_logout_uri ? `back-channel logout to ${out.backchannel_logout_uri}${sessionRequired ? ' (with sid)' : ''}` : 'back-channel logout off');
    });
  },

  async 'client delete'(config, args) {
    const clientId = str(args, 'client-id') ?? args.positionals[0];
    if (!clientId) throw new UsageError('--client-id is required');
    await withServices(config, async (s) => {
      await s.clients.delete(clientId);
      await s.audit.record({ type: 'admin.client.delete', outcome: 'success', clientId, details: { via: 'cli' } });
      print(args.json, { deleted: clientId }, `deleted client ${clientId}`);
    });
  },

  async 'keys rotate'(config, args) {
    await withServices(config, async (s) => {
      const result = await rotateSigningKeys(s.db.prisma, s.sealer, signingKeyTimes(config));
      await s.audit.record({ type: 'admin.keys.rotate', outcome: 'success', details: { ...result, via: 'cli' } });
      print(
        args.json,
        result,
        `new signing key ${result.kid}: running instances publish it within ${config.keyRefreshSeconds} s and sign with it from ${result.signsFrom.toISOString()}.\n` +
          `retired ${result.retired.join(', ') || 'none'} (published until the tokens they signed expire)${result.deleted.length ? `; removed expired ${result.deleted.join(', ')}` : ''}.`,
      );
    });
  },

  async 'keys list'(config, args) {
    await withServices(config, async (s) => {
      const rows = await listSigningKeys(s.db.prisma, signingKeyTimes(config));
      print(args.json, rows, table(rows, ['kid', 'alg', 'state', 'createdAt', 'retiredAt']));
    });
  },

  async eval(config, args) {
    const pairs = str(args, 'pairs', true)!;
    const result = await runEval(pairs, {
      modelsDir: config.modelsDir,
      poolSize: config.face.poolSize,
      maxBytes: config.face.maxUploadBytes,
      maxPixels: config.face.maxPixels,
      matchThreshold: MATCH_PRESETS[config.face.matchPreset],
      progress: !args.json || process.stderr.isTTY,
      scoresFile: str(args, 'scores'),
    });
    print(args.json, result);
  },

  async 'liveness-eval'(config, args) {
    const result = await runLivenessEval(str(args, 'sequences', true)!, {
      modelsDir: config.modelsDir,
      // Frames of a sequence are judged one after the other, and sequences one at a time.
      poolSize: 1,
      maxBytes: config.face.maxUploadBytes,
      maxPixels: config.face.maxPixels,
      livenessThreshold: config.face.livenessThreshold,
      explain: Boolean(args.values.explain),
    });
    print(args.json, result, formatLivenessEval(result));
  },

  async bench(config, args) {
    const seconds = str(args, 'seconds');
    if (seconds !== undefined && !(Number(seconds) > 0)) throw new UsageError('--seconds takes a positive number');
    const reads = str(args, 'document-reads');
    if (reads !== undefined && !(Number(reads) >= 1)) throw new UsageError('--document-reads takes a positive number');
    const only = list(args, 'only').flatMap((v) => v.split(','));
    const unknown = only.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
    if (unknown.length > 0) throw new UsageError(`--only takes ${BENCHMARKS.join(', ')} (got ${unknown.join(', ')})`);
    const result = await runBenchmarks(
      config,
      { image: str(args, 'image'), seconds: seconds ? Number(seconds) : undefined, documentReads: reads ? Number(reads) : undefined, ...(only.length > 0 && { only: only as BenchmarkName[] }) },
      withTemporaryServer,
    );
    print(args.json, { ...result, targets: TARGETS }, formatBenchmarks(result));
  },

  ...documentCommands,
};

