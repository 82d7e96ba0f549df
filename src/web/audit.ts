import type { Context, Next } from 'koa';
import type { AuditInput } from '../audit/index.js';
import type { Logger } from '../ops/logger.js';
import './state.js';

/**
 * Gives every request `ctx.state.audit`, which records an event with the request's id, client address and user
 * agent, and the signed-in administrator as actor unless the event names one. A failed audit write is logged and
 * never changes the answer.
 */
export function requestAudit(log: { record(event: AuditInput): Promise<void> }, logger: Logger) {
  return async (ctx: Context, next: Next) => {
    ctx.state.audit = async (event) => {
      try {
        await log.record({ actorId: ctx.state.adminUser?.id ?? null, ...event, ...auditContext(ctx) });
      } catch (err) {
        logger.warn({ err, requestId: ctx.state.requestId, type: event.type }, 'audit write failed');
      }
    };
    await next();
  };
}

/** The request's id and client address, for domain services that write their own audit events. */
export function auditContext(ctx: Context): Pick<AuditInput, 'requestId' | 'ip' | 'userAgent'> {
  return { requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') };
}
