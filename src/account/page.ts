import type { Context } from 'koa';
import { render } from '../web/views.js';
import { accountOf } from './deps.js';

/** Confirmations shown after a redirect (`?done=…`); a fixed list, so a link cannot put arbitrary text on the page. */
const DONE = {
  'passkey-added': 'Passkey added. Apps that ask for it can now sign you in with your passkey and your face.',
  'passkey-renamed': 'Passkey renamed.',
  'passkey-removed': 'Passkey removed: it can no longer be used to sign in.',
  'consent-withdrawn': 'Consent withdrawn: your face templates and any kept photos were deleted, and the apps you signed in to with your face were signed out.',
  reenrolled: 'Your face was enrolled again; the earlier templates were replaced.',
  'app-revoked': 'App revoked: it lost access and was signed out; it will ask for your approval again.',
} as const;

export type Done = keyof typeof DONE;

const isDone = (value: unknown): value is Done => typeof value === 'string' && Object.hasOwn(DONE, value);

/** Renders an account page with its layout and the signed-in person. */
export async function page(ctx: Context, view: string, locals: { title: string; [key: string]: unknown }, status = 200): Promise<void> {
  const done = isDone(ctx.query.done) ? DONE[ctx.query.done] : null;
  await render(ctx, `account/${view}`, { me: accountOf(ctx).user, csrf: ctx.state.csrf, done, message: null, scripts: [], ...locals }, status);
}

export function redirectDone(ctx: Context, done: Done): void {
  ctx.redirect(`/account?done=${done}`);
}

export function formField(ctx: Context, name: string): string {
  const v = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
}
