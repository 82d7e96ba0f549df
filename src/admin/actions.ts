import type { Context } from 'koa';
import type { AuditLog } from '../audit/index.js';
import { adminOf } from './page.js';

/** Every admin change goes to the audit log: who (the signed-in admin), what (type, subject, details), when, from where. */
export async function recordAction(
  ctx: Context,
  audit: AuditLog,
  type: string,
  subject: { userId?: string | null; clientId?: string | null; details?: Record<string, unknown> } = {},
): Promise<void> {
  await audit.record({
    type: `admin.${type}`,
    outcome: 'success',
    actorId: adminOf(ctx).id,
    userId: subject.userId ?? null,
    clientId: subject.clientId ?? null,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    details: subject.details ?? {},
  });
}
