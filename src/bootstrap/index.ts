import Router from '@koa/router';
import type { Context } from 'koa';
import { AccountError, UserStore } from '../accounts/users.js';
import type { AuditLog } from '../audit/index.js';
import { randomToken, sha256Hex } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import type { Csrf } from '../web/csrf.js';
import { HttpError } from '../web/errors.js';
import { render } from '../web/views.js';

const PURPOSE = 'bootstrap';
const TTL_MS = 3600_000;

/**
 * The first admin. While no admin exists the server prints a one-time link (single use, one hour, loopback only):
 * whoever can read the server's console on its host creates the first admin account there.
 */
export async function issueBootstrapLink(prisma: Prisma, issuer: string): Promise<string | null> {
  if ((await prisma.user.count({ where: { roles: { has: 'admin' } } })) > 0) return null;
  const token = randomToken();
  await prisma.oneTimeToken.create({ data: { id: sha256Hex(token), purpose: PURPOSE, expiresAt: new Date(Date.now() + TTL_MS) } });
  return `${issuer}/bootstrap/${token}`;
}

function fromLoopback(ctx: Context): boolean {
  // The socket address, not X-Forwarded-For: a proxy must not turn remote visitors into local ones.
  const address = ctx.req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export interface BootstrapDeps {
  prisma: Prisma;
  audit: AuditLog;
  csrf: Csrf;
  /** Where the new admin goes next: their face enrollment. */
  afterCreate: (userId: string) => Promise<string>;
}

export function bootstrapRouter(deps: BootstrapDeps): Router {
  const router = new Router();

  async function validToken(ctx: Context): Promise<string> {
    if (!fromLoopback(ctx)) throw new HttpError(403, 'BOOTSTRAP_LOCAL_ONLY', 'The bootstrap link only works from the machine the server runs on.');
    const id = sha256Hex(String(ctx.params.token));
    const row = await deps.prisma.oneTimeToken.findUnique({ where: { id } });
    if (!row || row.purpose !== PURPOSE || row.usedAt || row.expiresAt < new Date()) {
      throw new HttpError(410, 'BOOTSTRAP_LINK_INVALID', 'This bootstrap link has expired or was already used. Restart the server to print a new one.');
    }
    return id;
  }

  router.get('/bootstrap/:token', async (ctx) => {
    const id = await validToken(ctx);
    await render(ctx, 'bootstrap', { title: 'Create the first administrator', token: ctx.params.token, csrf: deps.csrf.token(`bootstrap:${id}`), values: {} });
  });

  router.post('/bootstrap/:token', async (ctx) => {
    const id = await validToken(ctx);
    deps.csrf.verify(ctx, `bootstrap:${id}`);
    const form = (ctx.request.body ?? {}) as Record<string, string>;
    const values = { email: form.email ?? '', name: form.name ?? '' };
    const again = (message: string) =>
      render(ctx, 'bootstrap', { title: 'Create the first administrator', token: ctx.params.token, csrf: deps.csrf.token(`bootstrap:${id}`), values, message }, 400);
    if (form.password !== form.password_confirm) return again('The two passwords differ.');
    let userId: string;
    try {
      userId = await deps.prisma.$transaction(async (tx) => {
        // Claiming the token and creating the admin succeed or fail together.
        const claimed = await tx.oneTimeToken.updateMany({ where: { id, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
        if (claimed.count !== 1) throw new HttpError(410, 'BOOTSTRAP_LINK_INVALID', 'This bootstrap link was just used.');
        const user = await new UserStore(tx).create({
          email: values.email,
          name: values.name,
          password: form.password || null,
          roles: ['admin'],
        });
        return user.id;
      });
    } catch (err) {
      if (err instanceof AccountError) return again(err.message);
      throw err;
    }
    await deps.audit.record({ type: 'admin.bootstrap', outcome: 'success', userId, actorId: userId, ip: ctx.ip, userAgent: ctx.get('user-agent') });
    ctx.redirect(await deps.afterCreate(userId));
  });

  return router;
}
