import type { Context } from 'koa';

/** Every admin change goes to the audit log: who (the signed-in admin), what (type, subject, details), when, from where. */
export async function recordAction(
  ctx: Context,
  type: string,
  subject: { userId?: string | null; clientId?: string | null; details?: Record<string, unknown> } = {},
): Promise<void> {
  await ctx.state.audit({ type: `admin.${type}`, outcome: 'success', userId: subject.userId ?? null, clientId: subject.clientId ?? null, details: subject.details ?? {} });
}
