import type Router from '@koa/router';
import type { Context } from 'koa';
import { exportData, factorChanges, signIns } from './activity.js';
import { connectedApps } from './apps.js';
import { faceVerified, freshFor } from './access.js';
import { accountOf, type AccountDeps } from './deps.js';
import { page } from './page.js';

const RECENT_SIGN_INS = 15;

/** The face enrollment as the person sees it: templates, the consent they gave (and its words), kept photos. */
async function faceSummary(deps: AccountDeps, userId: string) {
  const [templates, consent, images, settings] = await Promise.all([deps.templates.summary(userId), deps.consent.current(userId), deps.images.count(userId), deps.settings.get()]);
  return {
    templates: templates.length,
    firstAt: templates[0]?.createdAt ?? null,
    lastAt: templates.at(-1)?.createdAt ?? null,
    consent: consent && { version: consent.textVersion, givenAt: consent.givenAt, collectedBy: consent.collector.kind, text: consent.textVersion === deps.consent.version ? deps.consent.text : null },
    images,
    keepImages: settings.keepImages,
  };
}

/** Renders the account page; the change routes use it to answer a refused form with its message. */
export async function renderHome(deps: AccountDeps, ctx: Context, message: string | null = null, status = 200): Promise<void> {
  const { user, session } = accountOf(ctx);
  const [face, passkeys, recent, settings, apps] = await Promise.all([faceSummary(deps, user.id), deps.passkeys.list(user.id), signIns(deps, user.id, RECENT_SIGN_INS), deps.settings.get(), connectedApps(deps, user.id)]);
  const changes = await factorChanges(deps, user.id, passkeys);
  // Shown while the flow is offered, and to anyone holding a proofing (to see or withdraw it) when it is not.
  const record = await deps.proofing.status(user.id);
  const proofing = settings.proofingEnabled || record ? { record, offered: settings.proofingEnabled } : null;
  await page(
    ctx,
    'home',
    {
      title: 'Your account',
      scripts: ['/static/passkey-register.js'],
      face,
      passkeys,
      apps,
      signIns: recent,
      changes,
      hasPassword: user.passwordHash !== null,
      freshFor: freshFor(session),
      faceVerified: faceVerified(session),
      adminNeedsPasskey: settings.adminPasskeyRequired && user.roles.includes('admin'),
      proofing,
      message,
    },
    status,
  );
}

/** The account's home and the data download. */
export function homeRoutes(router: Router, deps: AccountDeps): void {
  router.get('/', (ctx) => renderHome(deps, ctx));

  router.get('/data.json', async (ctx) => {
    const { user } = accountOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="face-oidc-account-${new Date().toISOString().slice(0, 10)}.json"`);
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(await exportData(deps, user), null, 2);
    await ctx.state.audit({ type: 'account.export', outcome: 'success', userId: user.id, actorId: user.id });
  });
}
