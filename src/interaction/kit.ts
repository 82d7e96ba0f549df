import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { User } from '../accounts/users.js';
import type { AuditInput } from '../audit/index.js';
import type { Metrics } from '../ops/metrics.js';
import type { Passkeys } from '../passkeys/index.js';
import { acrTarget, type AcrTarget, type ClientPolicy } from '../oidc/policy.js';
import { type AccountFacts, nextStep, type NextStep } from '../sign-in/plan.js';
import type { InteractionState, InteractionStateStore } from '../sign-in/state.js';
import type { AttemptSubject, FaceVerification, Origin } from '../verification/index.js';
import type { Csrf } from '../web/csrf.js';
import { deviceOrigin, rememberDevice } from '../web/device-cookie.js';
import { HttpError } from '../web/errors.js';
import type { RateWindows } from '../web/rate-limit.js';

/** What the sign-in pages work with; the server composes it from the domain services. */
export interface InteractionDeps {
  config: { limits: { perIpPerMinute: number } };
  provider: Provider;
  users: { byId(id: string): Promise<User | null>; byEmail(email: string): Promise<User | null>; recordSignIn(id: string): Promise<void> };
  /** App approvals remembered across sessions (OIDC consent). */
  approvals: { remember(userId: string, clientId: string, scopes: string[], claims?: string[]): Promise<void> };
  /** Whether the account holds an identity proofing in force (what `verified_claims` would carry). */
  proofing: { isValid(userId: string): Promise<boolean>; offered(): Promise<boolean> };
  verification: FaceVerification;
  passkeys: Pick<Passkeys, 'count' | 'authenticationOptions' | 'authenticate'>;
  states: InteractionStateStore;
  csrf: Csrf;
  rate: RateWindows;
  metrics: Metrics;
  /** Apps whose passkey + face sign-in accepts only keys an administrator approved or an invitation bound (the admin console). */
  approvedPasskeysOnly(clientId: string): boolean;
}

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** One interaction as every handler sees it: the provider's details, what the sign-in established, and what comes next. */
export interface Loaded {
  uid: string;
  details: Details;
  state: InteractionState;
  user: User | null;
  client: ClientPolicy & { clientId: string; clientName?: string };
  target: AcrTarget;
  facts: AccountFacts;
  next: NextStep;
}

/** What every step handler shares: loading an interaction, the attempt subject and origin, audit, and finishing the login. */
export class InteractionKit {
  constructor(readonly deps: InteractionDeps) {}

  async load(ctx: Context): Promise<Loaded> {
    let details: Details;
    try {
      details = await this.deps.provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw new HttpError(400, 'INTERACTION_EXPIRED', 'This sign-in has expired. Go back to the app and start again.');
    }
    if (details.uid !== ctx.params.uid) throw new HttpError(400, 'INTERACTION_MISMATCH', 'This sign-in page belongs to another sign-in. Start again from the app.');
    const state = await this.deps.states.get(details.uid);
    const found = state.accountId ? await this.deps.users.byId(state.accountId) : null;
    const client = (await this.deps.provider.Client.find(String(details.params.client_id))) as unknown as Loaded['client'] | undefined;
    if (!client) throw new HttpError(400, 'UNKNOWN_CLIENT', 'The app that started this sign-in is no longer registered.');
    const target = acrTarget(details.params.acr_values as string | undefined, client);
    const user = found?.status === 'ACTIVE' ? found : null;
    const [hasFace, passkeys] = user ? await Promise.all([this.deps.verification.hasFace(user.id), this.deps.passkeys.count(user.id)]) : [false, 0];
    const facts: AccountFacts = { known: user !== null, hasFace, faceLocked: Boolean(user?.faceLockedAt), hasPasskey: passkeys > 0 };
    return { uid: details.uid, details, state, user, client, target, facts, next: nextStep(state, target, facts) };
  }

  csrfToken(uid: string) {
    return this.deps.csrf.token(`interaction:${uid}`);
  }

  verifyCsrf(ctx: Context, uid: string) {
    this.deps.csrf.verify(ctx, `interaction:${uid}`);
  }

  /** Whose attempts count: the account, or the typed identifier for unknown ones (same throttling). */
  subject(loaded: Loaded): AttemptSubject {
    return { userId: loaded.user?.id ?? null, identifier: loaded.state.email ?? '' };
  }

  /** Where the attempt comes from: a device this account signed in with before (its device cookie), or an unknown one. */
  origin(ctx: Context, loaded: Loaded): Origin {
    return loaded.user ? this.originFor(ctx, loaded.user.id) : { kind: 'unknown' };
  }

  /** The same for an account the attempt turned out to be for (a passkey without an email names it). */
  originFor(ctx: Context, userId: string): Origin {
    return deviceOrigin(ctx, this.deps.verification.devices, userId);
  }

  /** Audits an event of this sign-in for `subject` (by default whoever it is for now: the account or the typed identifier). */
  async audit(ctx: Context, loaded: Loaded, event: Omit<AuditInput, 'ip' | 'userAgent' | 'clientId' | 'userId' | 'requestId'>, subject: AttemptSubject = this.subject(loaded)) {
    await ctx.state.audit({
      ...event,
      userId: subject.userId,
      clientId: loaded.client.clientId,
      details: { ...event.details, ...(subject.userId ? {} : { identifier: subject.identifier }) },
    });
  }

  /**
   * Records verified factors and returns where the browser goes next: the next step's page, or — when the
   * factors satisfy the target — the provider's resume URL with `amr`/`acr` from the steps that actually ran.
   * Only POST handlers call this: a page view never completes a login.
   */
  async advance(ctx: Context, loaded: Loaded, done: Partial<InteractionState['done']>): Promise<string> {
    const state = { ...loaded.state, done: { ...loaded.state.done, ...done } };
    const next = nextStep(state, loaded.target, loaded.facts);
    if (next.kind !== 'finish' || !loaded.user) {
      await this.deps.states.save(loaded.uid, state);
      return `/interaction/${loaded.uid}`;
    }
    const result: InteractionResults = { login: { accountId: loaded.user.id, amr: next.amr, acr: next.acr, remember: true } };
    await this.deps.users.recordSignIn(loaded.user.id);
    await this.deps.states.clear(loaded.uid);
    rememberDevice(ctx, this.deps.verification.devices, loaded.user.id);
    return this.deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  }
}
