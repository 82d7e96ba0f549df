import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AuditEvent, AuditFilter } from '../audit/index.js';
import { HttpError } from '../web/errors.js';
import type { AdminDeps } from './deps.js';
import { page } from './page.js';

const PAGE_SIZE = 50;
const EXPORT_BATCH = 1000;
const EXPORT_MAX = 100_000;

export const EVENT_KINDS = [
  { value: '', label: 'All events' },
  { value: 'signin.', label: 'Sign-in attempts' },
  { value: 'admin.', label: 'Admin actions' },
  { value: 'enroll.', label: 'Enrollment' },
  { value: 'consent.', label: 'Consent' },
  { value: 'api.', label: 'Face Match API' },
  { value: 'retention.', label: 'Retention purges' },
];

/** The filter form as typed (kept for redisplay) and what it means for the query. */
interface Filters {
  form: { user: string; app: string; outcome: string; type: string; from: string; to: string };
  filter: AuditFilter;
  /** Why the filter matches nothing (e.g. an unknown email), shown instead of an empty table. */
  problem: string | null;
}

/** Times are typed and shown in UTC; a bare date as the end of a range means the whole day. */
function parseTime(value: string, endOfDay: boolean): Date | undefined | null {
  if (!value) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T${endOfDay ? '23:59:59.999' : '00:00:00'}Z` : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}Z` : null;
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

async function readFilters(ctx: Context, deps: AdminDeps): Promise<Filters> {
  const q = (name: string) => String(ctx.query[name] ?? '').trim().slice(0, 320);
  const form = { user: q('user'), app: q('app'), outcome: q('outcome'), type: q('type'), from: q('from'), to: q('to') };
  const filter: AuditFilter = {};
  let problem: string | null = null;
  if (form.user) {
    if (z.uuid().safeParse(form.user).success) filter.userId = form.user;
    else {
      const user = await deps.users.byEmail(form.user);
      if (user) filter.userId = user.id;
      else problem = `No user has the email ${form.user}. Events of deleted accounts can be found by their user id.`;
    }
  }
  if (form.app) filter.clientId = form.app;
  if (['success', 'failure', 'info'].includes(form.outcome)) filter.outcome = form.outcome;
  if (EVENT_KINDS.some((k) => k.value && k.value === form.type)) filter.type = form.type;
  const from = parseTime(form.from, false);
  const to = parseTime(form.to, true);
  if (from === null || to === null) problem = 'Enter times as YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).';
  else {
    filter.from = from;
    filter.to = to;
  }
  if (filter.from && filter.to && filter.from > filter.to) problem = 'The start of the time range is after its end.';
  return { form, filter, problem };
}

/** Names for the user and app ids on a page of events (deleted ones stay ids). */
async function labels(deps: AdminDeps, events: AuditEvent[]) {
  const ids = [...new Set(events.flatMap((e) => [e.userId, e.actorId]).filter((v): v is string => !!v))];
  const [userEmails, apps] = await Promise.all([deps.users.emails(ids), deps.clients.list()]);
  return { userEmails, appNames: new Map(apps.map((a) => [a.clientId, a.name])), apps };
}

/** A CSV cell; cells a spreadsheet would read as a formula are prefixed with a quote (CSV injection). */
function cell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const CSV_COLUMNS = ['id', 'at', 'type', 'outcome', 'reason', 'user_id', 'actor_id', 'client_id', 'ip', 'user_agent', 'details'];

/** Streams the filtered events in id order, a batch at a time, so an export never holds the whole log in memory. */
async function* csvLines(deps: AdminDeps, filter: AuditFilter): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let cursor: bigint | undefined;
  for (let sent = 0; sent < EXPORT_MAX; ) {
    const batch = await deps.audit.page(filter, Math.min(EXPORT_BATCH, EXPORT_MAX - sent), cursor);
    if (batch.length === 0) return;
    for (const e of batch) {
      yield `${[String(e.id), e.at.toISOString(), e.type, e.outcome, e.reason, e.userId, e.actorId, e.clientId, e.ip, e.userAgent, e.details].map(cell).join(',')}\r\n`;
    }
    sent += batch.length;
    cursor = batch[batch.length - 1].id;
  }
}

/** Audit: sign-in attempts and admin actions with filters, a detail view and CSV export. */
export function auditRoutes(router: Router, deps: AdminDeps): void {
  router.get('/audit', async (ctx) => {
    const { form, filter, problem } = await readFilters(ctx, deps);
    const current = Math.max(1, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1);
    const [events, total] = problem ? [[], 0] : await Promise.all([deps.audit.list(filter, PAGE_SIZE, (current - 1) * PAGE_SIZE), deps.audit.count(filter)]);
    const query = new URLSearchParams(Object.entries(form).filter(([, v]) => v)).toString();
    await page(ctx, 'audit/list', {
      title: 'Audit log',
      section: 'audit',
      form,
      problem,
      events,
      total,
      current,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      kinds: EVENT_KINDS,
      ...(await labels(deps, events)),
    });
  });

  router.get('/audit.csv', async (ctx) => {
    const { filter, problem } = await readFilters(ctx, deps);
    if (problem) throw new HttpError(400, 'FILTER_INVALID', problem);
    ctx.set('Content-Disposition', `attachment; filename="face-oidc-audit-${new Date().toISOString().slice(0, 10)}.csv"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = Readable.from(csvLines(deps, filter));
  });

  router.get('/audit/:eventId', async (ctx) => {
    const raw = String(ctx.params.eventId);
    const event = await deps.audit.find(raw);
    if (!event) throw new HttpError(404, 'EVENT_NOT_FOUND', 'This audit event does not exist (it may have been purged).');
    const { userEmails, appNames } = await labels(deps, [event]);
    await page(ctx, 'audit/detail', { title: `Event ${raw}`, section: 'audit', event, userEmails, appNames, details: Object.entries((event.details ?? {}) as Record<string, unknown>) });
  });
}
