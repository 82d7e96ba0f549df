import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { render } from '../web/views.js';

export type Section = 'users' | 'apps' | 'audit' | 'challenges' | 'settings';

/** The signed-in administrator; the access check (access.ts) sets it before any console handler runs. */
export function adminOf(ctx: Context): User {
  const admin = ctx.state.adminUser;
  if (!admin) throw new Error('requireAdmin must run before this handler');
  return admin;
}

/** Confirmations shown after a redirect (`?done=…`); a fixed list, so a link cannot put arbitrary text on the page. */
const DONE = {
  'user-created': 'User created. Record the biometric consent and enroll a face next.',
  'user-saved': 'Changes saved.',
  'user-disabled': 'User disabled; their sessions were ended.',
  'user-enabled': 'User enabled.',
  'user-deleted': 'User deleted with their face templates, images and sessions.',
  'face-unlocked': 'Face sign-in re-enabled and the failed-attempt counters cleared.',
  'proofing-revoked': 'Identity check revoked: apps no longer receive this person’s verified claims.',
  'consent-recorded': 'Consent recorded. You can enroll a face now.',
  'consent-withdrawn': 'Consent withdrawn; the face templates and images were deleted, and the sessions signed in with the face ended.',
  'template-removed': 'Face template removed.',
  'outdated-removed': 'Templates of the previous face model removed.',
  enrolled: 'Face template added.',
  'app-saved': 'App saved.',
  'app-deleted': 'App deleted; its tokens stop working.',
  'session-revoked': 'Revoked.',
  'sessions-revoked': 'All sessions and grants ended.',
  'settings-saved': 'Settings saved.',
  'passkey-revoked': 'Passkey revoked: it can no longer be used to sign in.',
  'passkey-approved': 'Passkey approved: it now opens the admin console together with the face.',
} as const;

export type Done = keyof typeof DONE;

const isDone = (value: unknown): value is Done => typeof value === 'string' && Object.hasOwn(DONE, value);

/** Renders an admin page with the console's layout, nav and the signed-in admin. */
export async function page(ctx: Context, view: string, locals: { title: string; section?: Section; [key: string]: unknown }, status = 200): Promise<void> {
  const done = isDone(ctx.query.done) ? DONE[ctx.query.done] : null;
  await render(ctx, `admin/${view}`, { admin: adminOf(ctx), csrf: ctx.state.csrf, done, message: null, section: null, ...locals }, status);
}

export type Form = Record<string, unknown>;

export function formOf(ctx: Context): Form {
  return (ctx.request.body as Form | undefined) ?? {};
}

export function field(form: Form, name: string): string {
  const v = form[name];
  return (Array.isArray(v) ? String(v.at(-1) ?? '') : typeof v === 'string' ? v : '').trim();
}

export function fields(form: Form, name: string): string[] {
  const v = form[name];
  return (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []).map((s) => s.trim()).filter(Boolean);
}

export const checked = (form: Form, name: string) => field(form, name) === 'on' || field(form, name) === 'yes';

/** Textareas with one value a line. */
export const lines = (form: Form, name: string) => field(form, name).split(/\r?\n/).map((s) => s.trim()).filter(Boolean);

/** Where to go after a form post (POST → redirect → GET), with a confirmation from the fixed list. */
export function redirectDone(ctx: Context, path: string, done: Done): void {
  ctx.redirect(`${path}${path.includes('?') ? '&' : '?'}done=${done}`);
}

/** Store errors read "a user with … already exists"; pages show sentences. */
export function sentence(message: string): string {
  const s = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
