import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccountError, MIN_PASSWORD_LENGTH, USERS_PAGE_SIZE, type User } from '../accounts/users.js';
import { sameEmbeddingSpace } from '../face/index.js';
import { auditContext } from '../web/audit.js';
import { withPasskeyErrors } from '../web/passkey-errors.js';
import { recordAction } from './actions.js';
import { userParam, type AdminDeps } from './deps.js';
import { adminOf, checked, field, formOf, page, redirectDone, sentence } from './page.js';

const statusFor = (err: AccountError) => (err.code === 'EMAIL_TAKEN' ? 409 : 400);

/** Users: list with search and pagination, create, edit, disable/enable, unlock the face factor, delete. */
export function userRoutes(router: Router, deps: AdminDeps): void {
  router.get('/users', async (ctx) => {
    const q = String(ctx.query.q ?? '').trim().slice(0, 200);
    const current = Math.max(1, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1);
    const { users, total } = await deps.users.search(q, current);
    const [counts, proofings] = await Promise.all([deps.templates.countsByUser(users.map((u) => u.id), deps.engine.modelId), deps.proofing.statuses(users.map((u) => u.id))]);
    const rows = users.map((u) => ({ ...u, templates: counts.get(u.id)!.current, outdated: counts.get(u.id)!.outdated, proofing: proofings.get(u.id)?.state ?? 'none' }));
    await page(ctx, 'users/list', { title: 'Users', section: 'users', q, rows, total, current, pages: Math.max(1, Math.ceil(total / USERS_PAGE_SIZE)) });
  });

  const renderNew = (ctx: Context, values: Record<string, unknown>, message: string | null = null, status = 200) =>
    page(ctx, 'users/new', { title: 'New user', section: 'users', values, message, minPassword: MIN_PASSWORD_LENGTH }, status);

  router.get('/users/new', (ctx) => renderNew(ctx, {}));

  router.post('/users', async (ctx) => {
    const form = formOf(ctx);
    const values = { email: field(form, 'email'), name: field(form, 'name'), admin: checked(form, 'admin') };
    let user: User;
    try {
      user = await deps.accounts.create({ ...values, password: field(form, 'password') || null, roles: values.admin ? ['admin'] : [] });
    } catch (err) {
      if (err instanceof AccountError) return renderNew(ctx, values, sentence(err.message), statusFor(err));
      throw err;
    }
    await recordAction(ctx, 'user.create', { userId: user.id, details: { email: user.email, admin: values.admin } });
    redirectDone(ctx, `/admin/users/${user.id}/enroll`, 'user-created');
  });

  async function renderUser(ctx: Context, user: User, message: string | null = null, status = 200, values?: Record<string, unknown>) {
    const [templates, consent, throttling, invite, passkeys, proofing] = await Promise.all([
      deps.templates.summary(user.id),
      deps.consent.current(user.id),
      deps.attempts.throttling(user.id),
      deps.invites.pending(user.id),
      deps.passkeys.list(user.id),
      deps.proofing.status(user.id),
    ]);
    await page(
      ctx,
      'users/show',
      {
        title: user.name,
        section: 'users',
        account: user,
        values: values ?? { email: user.email, name: user.name, admin: user.roles.includes('admin') },
        self: user.id === adminOf(ctx).id,
        templates: templates.filter((t) => sameEmbeddingSpace(t.modelId, deps.engine.modelId)).length,
        outdated: templates.filter((t) => !sameEmbeddingSpace(t.modelId, deps.engine.modelId)).length,
        consent,
        failures: throttling.filter((t) => t.factor === 'face').reduce((n, t) => n + t.failures, 0),
        throttling,
        invite,
        passkeys,
        proofing,
        minPassword: MIN_PASSWORD_LENGTH,
        message,
      },
      status,
    );
  }

  router.get('/users/:id', async (ctx) => renderUser(ctx, await userParam(ctx, deps)));

  router.post('/users/:id', async (ctx) => {
    const user = await userParam(ctx, deps);
    const form = formOf(ctx);
    const input = {
      email: field(form, 'email'),
      name: field(form, 'name'),
      admin: checked(form, 'admin'),
      password: field(form, 'password') || null,
      removePassword: checked(form, 'remove_password'),
    };
    let updated: User;
    try {
      updated = await deps.accounts.updateProfile(user, input, user.id === adminOf(ctx).id);
    } catch (err) {
      if (err instanceof AccountError) return renderUser(ctx, user, sentence(err.message), statusFor(err), input);
      throw err;
    }
    const changed: string[] = (['email', 'name'] as const).filter((k) => updated[k] !== user[k]);
    if (updated.roles.includes('admin') !== user.roles.includes('admin')) changed.push('roles');
    if (updated.passwordHash !== user.passwordHash) changed.push('password');
    await recordAction(ctx, 'user.update', { userId: user.id, details: { changed } });
    redirectDone(ctx, `/admin/users/${user.id}`, 'user-saved');
  });

  router.post('/users/:id/status', async (ctx) => {
    const user = await userParam(ctx, deps);
    const disable = field(formOf(ctx), 'status') === 'disabled';
    if (disable && user.id === adminOf(ctx).id) return renderUser(ctx, user, 'You cannot disable your own account.', 400);
    await deps.accounts.setStatus(user, disable ? 'DISABLED' : 'ACTIVE');
    await recordAction(ctx, disable ? 'user.disable' : 'user.enable', { userId: user.id });
    redirectDone(ctx, `/admin/users/${user.id}`, disable ? 'user-disabled' : 'user-enabled');
  });

  router.post('/users/:id/unlock-face', async (ctx) => {
    const user = await userParam(ctx, deps);
    const cleared = await deps.attempts.throttling(user.id);
    await deps.attempts.unlockFace(user.id);
    await recordAction(ctx, 'user.face_unlock', { userId: user.id, details: { wasLocked: user.faceLockedAt !== null, cleared: cleared.map((t) => ({ factor: t.factor, origin: t.origin, failures: t.failures })) } });
    redirectDone(ctx, `/admin/users/${user.id}`, 'face-unlocked');
  });

  /** Ends the person's identity proofing (a document reported stolen, a doubt): apps stop receiving verified claims. */
  router.post('/users/:id/proofing/revoke', async (ctx) => {
    const user = await userParam(ctx, deps);
    const reason = field(formOf(ctx), 'reason').slice(0, 200);
    if (!reason) return renderUser(ctx, user, 'Say why the identity check is revoked (the person and the audit trail see it).', 400);
    if (!(await deps.proofing.revoke(user.id, adminOf(ctx).id, reason, auditContext(ctx)))) return renderUser(ctx, user, 'There is no identity check in force to revoke.', 409);
    redirectDone(ctx, `/admin/users/${user.id}`, 'proofing-revoked');
  });

  /** Revokes one of the person's passkeys (a lost device, a departure); the domain records who did it. */
  router.post('/users/:id/passkeys/:passkey/revoke', async (ctx) => {
    const user = await userParam(ctx, deps);
    await withPasskeyErrors(() => deps.passkeys.remove(user.id, String(ctx.params.passkey), { kind: 'admin', adminId: adminOf(ctx).id }, auditContext(ctx)));
    redirectDone(ctx, `/admin/users/${user.id}`, 'passkey-revoked');
  });

  /** Approves a key bound by a face check alone for the console's "passkey + face" rule (README "Adding a sign-in factor"). */
  router.post('/users/:id/passkeys/:passkey/approve', async (ctx) => {
    const user = await userParam(ctx, deps);
    await withPasskeyErrors(() => deps.passkeys.approve(user.id, String(ctx.params.passkey), adminOf(ctx).id, auditContext(ctx)));
    redirectDone(ctx, `/admin/users/${user.id}`, 'passkey-approved');
  });

  router.get('/users/:id/delete', async (ctx) => {
    const user = await userParam(ctx, deps);
    const templates = (await deps.templates.summary(user.id)).length;
    await page(ctx, 'users/delete', { title: `Delete ${user.name}`, section: 'users', account: user, templates, self: user.id === adminOf(ctx).id });
  });

  router.post('/users/:id/delete', async (ctx) => {
    const user = await userParam(ctx, deps);
    if (user.id === adminOf(ctx).id) return renderUser(ctx, user, 'You cannot delete your own account.', 400);
    const erased = await deps.accounts.delete(user);
    // The record names the account for accountability; it holds no template, image or face data.
    await recordAction(ctx, 'user.delete', { userId: user.id, details: { email: user.email, name: user.name, ...erased } });
    redirectDone(ctx, '/admin/users', 'user-deleted');
  });
}

