/*
 * A store (PostgreSQL or Redis) that cannot be reached right now: callers do not wait for it to come back, the request
 * fails at once and the client is told to retry (503 + Retry-After in web/errors.ts, the API envelope and the provider).
 */

/** Socket-level failures (node, pg and ioredis name them in `code`). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is shutting down or starting). */
const PG_STATES = /^(08\d{3}|57P0[1-3])$/;
/** Prisma's codes for an unreachable server, a socket timeout, a closed connection and a pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The driver adapter's kinds behind those codes. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'SocketTimeout', 'ConnectionClosed']);
/** pg's pool and client errors that carry no code, and Prisma's messages for the same. */
const MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
  /Can't reach database server/i,
  /Server has closed the connection/i,
];

/** ioredis without its offline queue, past its command timeout or its retries, or on a connection it closed. */
function redisError(err: { name?: unknown; message?: unknown }): boolean {
  return err.name === 'MaxRetriesPerRequestError' || (typeof err.message === 'string' && /Stream isn't writeable|Command timed out|Connection is closed/.test(err.message));
}

/**
 * The store that `err` says is unreachable, or null for any other error. Looks through wrappers (Prisma's known-request
 * errors and driver-adapter errors, `cause` chains) for a socket code, a connection SQLSTATE or a driver message.
 */
export function unavailableStore(err: unknown, depth = 0): 'database' | 'redis' | null {
  if (!err || typeof err !== 'object' || depth > 5) return null;
  const e = err as { name?: unknown; code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  // An outbound call (a relying party's logout URI, a JWKS) that failed says nothing about our stores.
  if (e.message === 'fetch failed') return null;
  if (redisError(e)) return 'redis';
  const code = typeof e.code === 'string' ? e.code : '';
  if (PRISMA_CODES.has(code) || PG_STATES.test(code) || (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind))) return 'database';
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return 'database';
  // A bare socket error: ioredis reports its own as above, so one here comes from the database driver.
  if (SOCKET_CODES.has(code)) return 'database';
  return unavailableStore(e.cause, depth + 1) ?? unavailableStore(e.meta?.driverAdapterError, depth + 1);
}

/** Seconds a client is asked to wait before retrying while a store is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 2;
