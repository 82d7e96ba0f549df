import type { User } from '../accounts/users.js';
import type { AuditInput } from '../audit/index.js';
import type { RpSession } from './relying-party.js';

/** An audit record as a surface writes it: request id, client address, user agent (and the acting admin) are filled in. */
export type RequestAudit = (event: Omit<AuditInput, 'requestId' | 'ip' | 'userAgent'>) => Promise<void>;

declare module 'koa' {
  /** What the middleware chain leaves on `ctx.state` for every route (koa's DefaultState, typed once). */
  interface DefaultState {
    /** One id per request: access log, X-Request-Id header, audit events and API records (ops/http.ts). */
    requestId: string;
    audit: RequestAudit;
    /** The CSRF token of the surface's session, for its forms. */
    csrf?: string;
    /** The signed-in administrator, under /admin after the access check. */
    adminUser?: User;
    /** The signed-in person and their session, under /account after the access check. */
    account?: { user: User; session: RpSession };
  }
}
