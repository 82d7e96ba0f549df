import Router from '@koa/router';
import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import { EnrollmentError, type BiometricConsent, type Enrollment, type Invite, type InviteStore } from '../biometrics/index.js';
import type { Passkeys } from '../passkeys/index.js';
import type { Csrf } from '../web/csrf.js';
import { HttpError } from '../web/errors.js';
import { auditContext } from '../web/audit.js';
import { withPasskeyErrors } from '../web/passkey-errors.js';
import { withFaceErrors } from '../web/upload-errors.js';
import { render } from '../web/views.js';
import { readPhotos } from './http.js';
import { photoVerdict } from './verdict.js';

/** What self-enrollment works with; the server composes it from the domain services. */
export interface SelfEnrollmentDeps {
  users: { byId(id: string): Promise<User | null> };
  invites: Pick<InviteStore, 'open' | 'claim' | 'release' | 'usedBy'>;
  consent: Pick<BiometricConsent, 'inForce' | 'record' | 'text' | 'version'>;
  enrollment: Pick<Enrollment, 'enroll'>;
  passkeys: Pick<Passkeys, 'grant' | 'granted' | 'claimGrant' | 'registrationOptions' | 'register'>;
  csrf: Csrf;
  maxUploadBytes: number;
  /** Whether the end of an enrollment asks the person to confirm their identity next (src/proofing). */
  proofingAfterInvite(): Promise<boolean>;
}

const GONE = 'This enrollment link has expired or was already used. Ask your administrator for a new one.';
/** Holds the right to add one passkey right after enrolling, in the browser that enrolled (see Passkeys.grant). */
const GRANT_COOKIE = 'fo_enroll_passkey';
const NO_GRANT = 'Adding a passkey here is only possible right after enrolling, in the same browser. Add one on your account page instead.';

/**
 * /enroll/:token — a person enrolls their own face from an invite link: they read and accept the biometric notice
 * themselves, then take a selfie with their camera; the passive liveness check must pass since nobody watches.
 */
export function selfEnrollmentRouter(deps: SelfEnrollmentDeps): Router {
  const router = new Router({ prefix: '/enroll' });

  async function load(ctx: Context): Promise<{ invite: Invite; name: string }> {
    const invite = await deps.invites.open(String(ctx.params.token));
    const user = invite ? await deps.users.byId(invite.userId) : null;
    if (!invite || !user || user.status !== 'ACTIVE') throw new HttpError(410, 'ENROLL_LINK_INVALID', GONE);
    return { invite, name: user.name };
  }

  const binding = (invite: Invite) => `enroll:${invite.id}`;

  async function renderInvite(ctx: Context, invite: Invite, name: string, message?: string, status = 200) {
    await render(
      ctx,
      'enroll/invite',
      {
        title: 'Enroll your face',
        token: ctx.params.token,
        name,
        consented: await deps.consent.inForce(invite.userId),
        consentText: deps.consent.text,
        consentVersion: deps.consent.version,
        expiresAt: invite.expiresAt,
        csrf: deps.csrf.token(binding(invite)),
        message,
      },
      status,
    );
  }

  router.get('/:token', async (ctx) => {
    const { invite, name } = await load(ctx);
    await renderInvite(ctx, invite, name);
  });

  router.post('/:token/consent', async (ctx) => {
    const { invite, name } = await load(ctx);
    deps.csrf.verify(ctx, binding(invite));
    if ((ctx.request.body as Record<string, unknown>)?.agree !== 'yes') {
      return renderInvite(ctx, invite, name, 'Tick the box to give your consent, or close this page if you do not agree.', 400);
    }
    if (await deps.consent.record(invite.userId, { kind: 'self' })) {
      await ctx.state.audit({ type: 'consent.biometric', outcome: 'success', userId: invite.userId, details: { textVersion: deps.consent.version, collectedBy: 'self' } });
    }
    ctx.redirect(`/enroll/${encodeURIComponent(String(ctx.params.token))}`);
  });

  /** Called by enroll-self.js with one camera frame; answers `{ redirect }` or the JSON error shape with the verdict. */
  router.post('/:token/photo', async (ctx) => {
    const { invite } = await load(ctx);
    deps.csrf.verify(ctx, binding(invite));
    const { photos } = await readPhotos(ctx, { maxBytes: deps.maxUploadBytes, maxFiles: 1 });
    if (!(await deps.invites.claim(invite.id))) throw new HttpError(410, 'ENROLL_LINK_INVALID', GONE);
    try {
      await withFaceErrors(() =>
        deps.enrollment.enroll({ userId: invite.userId, image: photos[0], source: 'invite', actor: { kind: 'self' }, requireLiveness: true, context: auditContext(ctx) }),
      );
    } catch (err) {
      await deps.invites.release(invite.id);
      if (!(err instanceof EnrollmentError)) throw err;
      throw new HttpError(422, err.code, err.message, {}, { verdict: err.analysis ? photoVerdict(err.analysis) : null });
    }
    const grant = await deps.passkeys.grant(invite.userId);
    ctx.cookies.set(GRANT_COOKIE, grant, { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/enroll/', maxAge: 600_000 });
    ctx.body = { redirect: `/enroll/${encodeURIComponent(String(ctx.params.token))}/done` };
  });

  /** The person who used this link, and the passkey grant this browser holds for them (null once used or expired). */
  async function enrolled(ctx: Context): Promise<{ user: User; grant: string | null }> {
    const userId = await deps.invites.usedBy(String(ctx.params.token));
    const user = userId ? await deps.users.byId(userId) : null;
    if (!user || user.status !== 'ACTIVE') throw new HttpError(404, 'NOT_FOUND', 'There is nothing to show here.');
    const grant = ctx.cookies.get(GRANT_COOKIE, { signed: true }) ?? '';
    return { user, grant: grant && (await deps.passkeys.granted(grant)) === user.id ? grant : null };
  }

  const grantBinding = (grant: string) => `enroll-passkey:${grant}`;

  router.get('/:token/done', async (ctx) => {
    const { user, grant } = await enrolled(ctx);
    await render(ctx, 'enroll/done', {
      title: 'Face enrolled',
      scripts: grant ? ['/static/passkey-register.js'] : [],
      token: ctx.params.token,
      name: user.name,
      isAdmin: user.roles.includes('admin'),
      passkeyCsrf: grant ? deps.csrf.token(grantBinding(grant)) : null,
      passkeyAdded: ctx.query.passkey === 'added',
      proofingNext: await deps.proofingAfterInvite(),
    });
  });

  /** Registration of a passkey right after enrolling: options, then the authenticator's answer (JSON). */
  router.post('/:token/passkey/options', async (ctx) => {
    const { user, grant } = await enrolled(ctx);
    if (!grant) throw new HttpError(403, 'PASSKEY_GRANT_INVALID', NO_GRANT);
    deps.csrf.verify(ctx, grantBinding(grant));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { options: await deps.passkeys.registrationOptions(user, grantBinding(grant), { with: 'invite' }) };
  });

  router.post('/:token/passkey', async (ctx) => {
    const { user, grant } = await enrolled(ctx);
    if (!grant) throw new HttpError(403, 'PASSKEY_GRANT_INVALID', NO_GRANT);
    deps.csrf.verify(ctx, grantBinding(grant));
    const body = (ctx.request.body as Record<string, unknown> | undefined) ?? {};
    const name = typeof body.name === 'string' && body.name.trim() ? body.name : 'Passkey';
    // The grant is claimed only once the answer verified, and atomically: concurrent answers store one key.
    const claim = () => deps.passkeys.claimGrant(grant, user.id);
    const passkey = await withPasskeyErrors(() => deps.passkeys.register(user, grantBinding(grant), body.response, name, { kind: 'self' }, auditContext(ctx), claim));
    ctx.cookies.set(GRANT_COOKIE, null, { signed: true, path: '/enroll/' });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { redirect: `/enroll/${encodeURIComponent(String(ctx.params.token))}/done?passkey=added`, passkey: { id: passkey.id, name: passkey.name, kind: passkey.kind } };
  });

  return router;
}
