import type { Prisma } from '../store/database.js';
import type { Prisma as P } from '../store/generated/client.js';

export interface AuditInput {
  type: string;
  outcome: 'success' | 'failure' | 'info';
  reason?: string | null;
  userId?: string | null;
  actorId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  /** Never raw images, templates, passwords or tokens. */
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  userId?: string;
  clientId?: string;
  type?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
}

export function auditWhere(filter: AuditFilter): P.AuditEventWhereInput {
  return {
    userId: filter.userId,
    clientId: filter.clientId,
    type: filter.type ? { startsWith: filter.type } : undefined,
    outcome: filter.outcome,
    at: filter.from || filter.to ? { gte: filter.from, lte: filter.to } : undefined,
  };
}

export type { AuditEvent } from '../store/generated/client.js';

export class AuditLog {
  constructor(private readonly prisma: Prisma) {}

  async record(event: AuditInput): Promise<void> {
    await this.prisma.auditEvent.create({
      data: {
        type: event.type,
        outcome: event.outcome,
        reason: event.reason ?? null,
        userId: event.userId ?? null,
        actorId: event.actorId ?? null,
        clientId: event.clientId ?? null,
        ip: event.ip ?? null,
        userAgent: event.userAgent?.slice(0, 512) ?? null,
        requestId: event.requestId ?? null,
        details: (event.details ?? {}) as P.InputJsonValue,
      },
    });
  }

  list(filter: AuditFilter, take: number, skip = 0) {
    return this.prisma.auditEvent.findMany({ where: auditWhere(filter), orderBy: { at: 'desc' }, take, skip });
  }

  count(filter: AuditFilter) {
    return this.prisma.auditEvent.count({ where: auditWhere(filter) });
  }

  /** One event by its numeric id (as shown in the console); null for a malformed or purged id. */
  find(id: string) {
    return /^\d{1,18}$/.test(id) ? this.prisma.auditEvent.findUnique({ where: { id: BigInt(id) } }) : Promise.resolve(null);
  }

  /** Newest first, strictly older than the event `before` (a keyset page for exports). */
  page(filter: AuditFilter, take: number, before?: bigint) {
    return this.prisma.auditEvent.findMany({
      where: { AND: [auditWhere(filter), before === undefined ? {} : { id: { lt: before } }] },
      orderBy: { id: 'desc' },
      take,
    });
  }
}
