import type { Context } from 'koa';
import type { Envelope } from './types.js';

/** Writes the seed's response envelope; every API answer, success or failure, has this shape. */
export function sendEnvelope<T>(
  ctx: Context,
  appVersion: string,
  body: { status: number; message: string; result?: T[]; errorCodes?: string[] },
): void {
  const envelope: Envelope<T> = {
    status: body.status < 400,
    code: body.status,
    message: body.message,
    appVersion,
    result: body.result ?? [],
    errorCodes: body.errorCodes ?? [],
  };
  ctx.status = body.status;
  ctx.type = 'application/json';
  ctx.body = envelope;
}
