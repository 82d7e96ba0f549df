import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { FaceVerification, Origin } from '../verification/index.js';

type Devices = FaceVerification['devices'];

/** A device cookie per account, so one browser can be a known device of several accounts. */
const cookieName = (userId: string) => `fo_dev_${createHash('sha256').update(userId).digest('hex').slice(0, 12)}`;
const DEVICE_COOKIE_DAYS = 365;

/** Where an attempt on `userId` comes from: a browser that signed in to it before (its device cookie), or an unknown one. */
export function deviceOrigin(ctx: Context, devices: Devices, userId: string): Origin {
  const device = devices.verify(userId, ctx.cookies.get(cookieName(userId), { signed: true }));
  return device ? { kind: 'known', device } : { kind: 'unknown' };
}

/** After a successful sign-in the browser becomes a known device of the account (OWASP device cookie). */
export function rememberDevice(ctx: Context, devices: Devices, userId: string): void {
  if (devices.verify(userId, ctx.cookies.get(cookieName(userId), { signed: true }))) return;
  ctx.cookies.set(cookieName(userId), devices.issue(userId), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.protocol === 'https',
    maxAge: DEVICE_COOKIE_DAYS * 86_400_000,
  });
}
