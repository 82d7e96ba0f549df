import type Router from '@koa/router';
import type { Context } from 'koa';
import { ZodError } from 'zod';
import { MATCH_PRESETS } from '../face/index.js';
import type { RetentionCounts } from '../retention/index.js';
import type { Settings } from '../settings/index.js';
import { recordAction } from './actions.js';
import type { AdminDeps } from './deps.js';
import { adminOf, checked, field, formOf, page, redirectDone, type Form } from './page.js';

export const PRESET_LABELS: Record<Settings['matchPreset'], string> = {
  'far-1e-3': 'Lenient: about 1 in 1,000 false matches',
  'far-1e-4': 'Balanced: about 1 in 10,000 false matches (recommended)',
  'far-1e-5': 'Strict: about 1 in 100,000 false matches',
};

const NUMBERS = ['proofingValidityDays', 'livenessThreshold', 'apiReviewScore', 'apiAcceptScore', 'faceFailuresBeforeDelay', 'failureDelaySeconds', 'faceFailuresBeforeLockout', 'passwordFailuresBeforeDelay', 'passwordFailuresBeforeLockout', 'templateRetentionDays', 'auditRetentionDays'] as const;

const LABELS: Record<string, string> = {
  matchPreset: 'Match threshold',
  livenessThreshold: 'Liveness threshold',
  apiReviewScore: 'Face Match review score',
  apiAcceptScore: 'Face Match accept score',
  faceFailuresBeforeDelay: 'Failures before a delay',
  failureDelaySeconds: 'Delay per attempt',
  faceFailuresBeforeLockout: 'Failures before lockout',
  passwordFailuresBeforeDelay: 'Password failures before a delay',
  passwordFailuresBeforeLockout: 'Password failures before a lockout',
  templateRetentionDays: 'Template retention',
  auditRetentionDays: 'Audit retention',
  proofingValidityDays: 'Identity check validity',
};

/** The form's fields as typed; numbers are checked by the settings schema, which names the bad field. */
function patchFrom(form: Form): Record<string, unknown> {
  const patch: Record<string, unknown> = { matchPreset: field(form, 'matchPreset'), keepImages: checked(form, 'keepImages'), adminPasskeyRequired: checked(form, 'adminPasskeyRequired'), proofingEnabled: checked(form, 'proofingEnabled'), proofingAfterInvite: checked(form, 'proofingAfterInvite'), proofingKeepDocumentNumber: checked(form, 'proofingKeepDocumentNumber') };
  for (const name of NUMBERS) {
    const raw = field(form, name);
    patch[name] = raw === '' ? Number.NaN : Number(raw);
  }
  return patch;
}

function describe(err: ZodError): string {
  return err.issues
    .map((i) => {
      const name = LABELS[String(i.path[0])] ?? String(i.path[0]);
      if (i.code === 'too_small') return `${name} must be at least ${i.minimum}.`;
      if (i.code === 'too_big') return `${name} must be at most ${i.maximum}.`;
      if (i.code === 'invalid_type' || i.code === 'invalid_value') return `${name}: choose or enter a valid value.`;
      return `${name}: ${i.message}.`;
    })
    .join(' ');
}

/** Settings: match preset, liveness and attempt limits, retention, keeping enrollment images; run the purge now. */
export function settingsRoutes(router: Router, deps: AdminDeps): void {
  async function renderSettings(ctx: Context, values: Record<string, unknown>, extra: { message?: string; ranNow?: RetentionCounts } = {}, status = 200) {
    await page(
      ctx,
      'settings',
      { title: 'Settings', section: 'settings', values, presets: PRESET_LABELS, thresholds: MATCH_PRESETS, lastRun: await deps.retention.lastRun(), ranNow: null, ...extra },
      status,
    );
  }

  router.get('/settings', async (ctx) => renderSettings(ctx, { ...(await deps.settings.get()) }));

  router.post('/settings', async (ctx) => {
    const before = await deps.settings.get();
    const patch = patchFrom(formOf(ctx));
    // Requiring passkeys before having one would shut the administrator who asks out of the console.
    // A key bound by a face check alone does not open the console until approved (README "Adding a sign-in factor").
    if (patch.adminPasskeyRequired && !before.adminPasskeyRequired && !(await deps.passkeys.list(adminOf(ctx).id)).some((k) => k.adminReady)) {
      const message =
        'Add a passkey to your own account first (on your account page) and approve it on your user page here: once this is on, the console asks administrators for an approved one.';
      return renderSettings(ctx, { ...before, ...patch }, { message }, 400);
    }
    let after: Settings;
    try {
      after = await deps.settings.update(patch as Partial<Settings>, adminOf(ctx).id);
    } catch (err) {
      if (err instanceof ZodError) return renderSettings(ctx, { ...before, ...patch }, { message: describe(err) }, 400);
      throw err;
    }
    const changed = Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k as keyof Settings] !== v).map(([k, v]) => [k, { from: before[k as keyof Settings], to: v }]));
    await recordAction(ctx, 'settings.update', { details: { changed } });
    redirectDone(ctx, '/admin/settings', 'settings-saved');
  });

  router.post('/settings/retention/run', async (ctx) => {
    const counts = await deps.retention.run();
    await recordAction(ctx, 'retention.run', { details: { ...counts } });
    await renderSettings(ctx, { ...(await deps.settings.get()) }, { ranNow: counts });
  });
}
