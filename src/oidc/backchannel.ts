import type Provider from 'oidc-provider';
import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Prisma } from '../store/database.js';

/** One app to tell that a person's session ended (OpenID Connect Back-Channel Logout 1.0). */
export interface LogoutNotice {
  clientId: string;
  /** The account id: the logout token's `sub`. */
  accountId: string;
  /** The provider session's `sid` for this client; null when only grants ended (the token then names `sub` alone). */
  sid: string | null;
}

/** What ended the session, as the audit record names it. */
export type LogoutReason = 'signout' | 'session.revoke' | 'account.disable' | 'account.delete' | 'app.revoke' | 'consent.withdraw';

export interface LogoutNotifier {
  notify(notices: LogoutNotice[], reason: LogoutReason): Promise<void>;
}

/** Seconds to wait after each failed attempt: five attempts over about a minute, then the failure is final. */
export const RETRY_DELAYS = [2, 5, 15, 40] as const;
/** A claimed notice becomes due again after this long: the claim of an instance that died mid-delivery runs out. */
const LEASE_SECONDS = 30;
const POLL_MS = 2000;
const BATCH = 20;

interface Claimed {
  id: string;
  clientId: string;
  accountId: string;
  sid: string | null;
  reason: string;
  attempts: number;
}

/** oidc-provider 9's Client#backchannelLogout (lib/models/client.js): issues the logout token and POSTs it. */
type SendLogout = (this: WithBackchannel, sub: string, sid: string | undefined) => Promise<void>;
type WithBackchannel = { clientId: string; backchannelLogoutUri?: string; backchannelLogoutSessionRequired?: boolean; backchannelLogout: SendLogout };

export interface BackchannelDeps {
  prisma: Prisma;
  provider: Provider;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
  metrics: Pick<Metrics, 'backchannelLogouts'>;
}

/**
 * Back-channel logout through a queue in the database that every instance drains: a notice is stored before the
 * request that ended the session answers, so neither that request nor a crashed instance waits for or loses it.
 *
 * The token itself is oidc-provider's (Client#backchannelLogout: iss, aud, iat, exp, jti, the logout event, sub and —
 * when the client requires it — sid, signed like the client's ID tokens). The library calls that method inline from
 * its end_session endpoint and waits for the app; here the call queues a notice instead, and the queue delivers it
 * with the library's original method, retrying with backoff and recording each failure in the audit log.
 */
export class BackchannelLogouts implements LogoutNotifier {
  private readonly send: SendLogout;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: BackchannelDeps) {
    const proto = deps.provider.Client.prototype as unknown as WithBackchannel;
    this.send = proto.backchannelLogout;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the replacement runs with `this` bound to the client
    const queue = this;
    proto.backchannelLogout = async function (this: WithBackchannel, sub: string, sid: string | undefined) {
      await queue.notify([{ clientId: this.clientId, accountId: sub, sid: sid ?? null }], 'signout');
    };
  }

  /** Queues a logout token for each notice whose client registered a back-channel logout URI. */
  async notify(notices: LogoutNotice[], reason: LogoutReason): Promise<void> {
    const unique = [...new Map(notices.map((n) => [`${n.clientId}\0${n.accountId}\0${n.sid ?? ''}`, n])).values()];
    if (unique.length === 0) return;
    const listening = await this.deps.prisma.client.findMany({
      where: { clientId: { in: [...new Set(unique.map((n) => n.clientId))] }, backchannelLogoutUri: { not: null } },
      select: { clientId: true },
    });
    const wanted = new Set(listening.map((c) => c.clientId));
    const rows = unique.filter((n) => wanted.has(n.clientId)).map((n) => ({ ...n, reason, dueAt: new Date() }));
    if (rows.length === 0) return;
    await this.deps.prisma.backchannelLogout.createMany({ data: rows });
    this.kick();
  }

  /** Starts draining the queue: at once, then every few seconds (retries that fell due, other instances' notices). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops polling and waits for the deliveries in flight; undelivered notices stay queued for any instance. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining;
  }

  private kick(): void {
    if (!this.timer) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'back-channel logout queue failed'))
      .finally(() => {
        this.draining = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    for (let claimed = await this.claim(); claimed.length > 0; claimed = await this.claim()) {
      await Promise.all(claimed.map((n) => this.deliver(n)));
    }
  }

  /** Due notices, claimed for this instance by moving them a lease ahead (SKIP LOCKED: two instances never share one). */
  private claim(): Promise<Claimed[]> {
    return this.deps.prisma.$queryRaw<Claimed[]>`
      UPDATE "backchannel_logouts"
         SET "due_at" = (now() AT TIME ZONE 'UTC') + make_interval(secs => ${LEASE_SECONDS}), "attempts" = "attempts" + 1
       WHERE "id" IN (SELECT "id" FROM "backchannel_logouts" WHERE "due_at" <= (now() AT TIME ZONE 'UTC') ORDER BY "due_at" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
   RETURNING "id", "client_id" AS "clientId", "account_id"::text AS "accountId", "sid", "reason", "attempts"`;
  }

  private async deliver(notice: Claimed): Promise<void> {
    const { prisma, audit, metrics } = this.deps;
    const done = () => prisma.backchannelLogout.deleteMany({ where: { id: notice.id } });
    const record = { type: 'oidc.backchannel_logout', userId: notice.accountId, clientId: notice.clientId };
    const details = { reason: notice.reason, attempt: notice.attempts, sid: false };
    try {
      const client = (await this.deps.provider.Client.find(notice.clientId)) as unknown as WithBackchannel | undefined;
      // The app was deleted or stopped listening since: nothing left to tell.
      if (!client?.backchannelLogoutUri) {
        metrics.backchannelLogouts.inc({ outcome: 'dropped' });
        return void (await done());
      }
      // Whether the token carries `sid`: the library adds it for the clients that require it.
      details.sid = notice.sid !== null && client.backchannelLogoutSessionRequired === true;
      await this.send.call(client, notice.accountId, notice.sid ?? undefined);
    } catch (err) {
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      const retryIn = RETRY_DELAYS[notice.attempts - 1];
      metrics.backchannelLogouts.inc({ outcome: retryIn === undefined ? 'gave_up' : 'retry' });
      if (retryIn === undefined) await done();
      else await prisma.backchannelLogout.update({ where: { id: notice.id }, data: { dueAt: new Date(Date.now() + retryIn * 1000), lastError: error } });
      await audit.record({ ...record, outcome: 'failure', reason: retryIn === undefined ? 'gave_up' : 'will_retry', details: { ...details, error, retryInSeconds: retryIn ?? null } });
      return;
    }
    metrics.backchannelLogouts.inc({ outcome: 'delivered' });
    await done();
    await audit.record({ ...record, outcome: 'success', details });
  }
}
