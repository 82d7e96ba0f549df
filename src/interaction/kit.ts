import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { TemplateStore } from '../accounts/templates.js';
import type { ConsentStore } from '../accounts/consents.js';
import type { User, UserStore } from '../accounts/users.js';
import type { AuditInput, AuditLog } from '../audit/index.js';
import type { FaceEngine } from '../face/index.js';
import type { Metrics } from '../ops/metrics.js';
import { acrTarget, type AcrTarget, type ClientPolicy } from '../oidc/policy.js';
import type { SettingsStore } from '../settings/index.js';
import type { KeyValueStore } from '../store/kv.js';
import type { Csrf } from '../web/csrf.js';
import { HttpError } from '../web/errors.js';
import { AttemptLimiter, type LimitPolicy } from './limits.js';
import { nextStep, type NextStep } from './plan.js';
import { type InteractionState, InteractionStateStore } from './state.js';

export interface InteractionDeps {
  config: Config;
  provider: Provider;
  users: UserStore;
  templates: TemplateStore;
  consents: ConsentStore;
  kv: KeyValueStore;
  csrf: Csrf;
  audit: AuditLog;
  metrics: Metrics;
  settings: SettingsStore;
  /** The running face engine; templates of another embedding model do not count. */
  engine: FaceEngine;
}

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface Loaded {
  uid: string;
  details: Details;
  state: InteractionState;
  user: User | null;
  client: ClientPolicy & { clientId: string; clientName?: string };
  target: AcrTarget;
  next: NextStep;
}

/** What every step handler shares: loading an interaction, recording attempts, and finishing the login. */
export class InteractionKit {
  readonly states: InteractionStateStore;
  readonly limiters: Record<'pwd' | 'face', AttemptLimiter>;

  constructor(readonly deps: InteractionDeps) {
    this.states = new InteractionStateStore(deps.kv, deps.config.ttl.interaction);
    this.limiters = { pwd: new AttemptLimiter(deps.kv, 'pwd'), face: new AttemptLimiter(deps.kv, 'face') };
  }

  async load(ctx: Context): Promise<Loaded> {
    let details: Details;
    try {
      details = await this.deps.provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new HttpError(400, 'INTERACTION_EXPIRED', 'This sign-in has expired. Go back to the app and start again.');
    }
    if (details.uid !== ctx.params.uid) throw new HttpError(400, 'INTERACTION_MISMATCH', 'This sign-in page belongs to another sign-in. Start again from the app.');
    const state = await this.states.get(details.uid);
    const user = state.accountId ? await this.deps.users.byId(state.accountId) : null;
    const client = (await this.deps.provider.Client.find(String(details.params.client_id))) as unknown as Loaded['client'] | undefined;
    if (!client) throw new HttpError(400, 'UNKNOWN_CLIENT', 'The app that started this sign-in is no longer registered.');
    const target = acrTarget(details.params.acr_values as string | undefined, client);
    const active = user?.status === 'ACTIVE';
    const hasFace = active ? (await this.deps.templates.count(user.id, this.deps.engine.modelId)) > 0 : false;
    const next = nextStep(state, target, { known: active, hasFace, faceLocked: Boolean(user?.faceLockedAt) });
    return { uid: details.uid, details, state, user: active ? user : null, client, target, next };
  }

  csrfToken(uid: string) {
    return this.deps.csrf.token(`interaction:${uid}`);
  }

  verifyCsrf(ctx: Context, uid: string) {
    this.deps.csrf.verify(ctx, `interaction:${uid}`);
  }

  async limitPolicy(): Promise<LimitPolicy> {
    const s = await this.deps.settings.get();
    return { failuresBeforeDelay: s.faceFailuresBeforeDelay, delaySeconds: s.failureDelaySeconds, failuresBeforeLockout: s.faceFailuresBeforeLockout };
  }

  /** The key attempt counters use: the account, or the typed identifier for unknown ones (same throttling). */
  attemptKey(loaded: Loaded): string {
    return loaded.user?.id ?? `unknown:${loaded.state.email}`;
  }

  async audit(ctx: Context, loaded: Loaded, event: Omit<AuditInput, 'ip' | 'userAgent' | 'clientId' | 'userId'>) {
    await this.deps.audit.record({
      ...event,
      userId: loaded.user?.id ?? null,
      clientId: loaded.client.clientId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
      details: { ...event.details, ...(loaded.user ? {} : { identifier: loaded.state.email }) },
    });
  }

  /**
   * Records verified factors and returns where the browser goes next: the next step's page, or — when the
   * factors satisfy the target — the provider's resume URL with `amr`/`acr` from the steps that actually ran.
   */
  async advance(ctx: Context, loaded: Loaded, done: Partial<InteractionState['done']>): Promise<string> {
    const state = { ...loaded.state, done: { ...loaded.state.done, ...done } };
    await this.states.save(loaded.uid, state);
    const reloaded = await this.load(ctx);
    if (reloaded.next.kind !== 'finish' || !reloaded.user) return `/interaction/${loaded.uid}`;
    const result: InteractionResults = {
      login: { accountId: reloaded.user.id, amr: reloaded.next.amr, acr: reloaded.next.acr, remember: true },
    };
    await this.deps.users.recordSignIn(reloaded.user.id);
    await this.states.clear(loaded.uid);
    return this.deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  }
}
