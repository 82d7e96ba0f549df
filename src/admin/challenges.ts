import type Router from '@koa/router';
import type { ChallengeDay, ChallengeSurface } from '../verification/index.js';
import { DURATION_BUCKETS } from '../verification/index.js';
import { sparkline, stackedBars } from './charts.js';
import type { AdminDeps } from './deps.js';
import { page } from './page.js';

const PERIODS = [14, 30, 90] as const;
const SURFACES: { value: '' | ChallengeSurface; label: string }[] = [
  { value: '', label: 'Sign-in and re-enrollment' },
  { value: 'signin', label: 'Sign-in' },
  { value: 'reenroll', label: 'Re-enrollment' },
  { value: 'proofing', label: 'Identity proofing' },
  { value: 'account', label: 'Other account checks' },
];

/** What each refusal code means to an operator (the verifier's codes; see src/challenge/README.md). */
const REASONS: Record<string, string> = {
  CHALLENGE_EXPIRED: 'Time ran out',
  NOT_FRONTAL: 'Never looked straight at the camera',
  FACE_LOST: 'Face left the picture',
  FACE_JUMP: 'Face jumped between frames',
  IDENTITY_CHANGED: 'Another face during the challenge',
  MULTIPLE_FACES: 'More than one face',
  WRONG_MOVEMENT: 'Wrong movement',
  TARGET_NOT_REACHED: 'Movement not far enough',
  MOTION_NOT_SEEN: 'Movement not seen travelling',
  NOT_THREE_DIMENSIONAL: 'Flat picture (no head rotation)',
  NO_RETURN: 'Did not look back at the camera',
  LIVENESS_FAILED: 'Passive liveness failed',
  NO_MATCH: 'Did not match the account',
  REPEATED_FRAME: 'Repeated frame',
  FRAME_GAP: 'Camera stream interrupted',
  TOO_MANY_FRAMES: 'Too many frames',
  FRAME_REPLAYED: 'Frames seen in an earlier sitting',
  IDENTIFIER_CHANGED: 'Sign-in switched to another account',
};

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : '—');

/**
 * A reason rises when its latest day is well above its own usual level: at least 3 refusals and more than twice the
 * mean of the days before (a new reason counts from 3 on).
 */
export function rising(values: number[]): boolean {
  const last = values.at(-1) ?? 0;
  const before = values.slice(0, -1);
  const mean = before.length ? sum(before) / before.length : 0;
  return last >= 3 && last > 2 * mean;
}

/** The median passed challenge's bucket (its upper bound in seconds), from the time-to-complete counts. */
export function medianBucket(durations: Record<string, number>): string | null {
  const order = [...DURATION_BUCKETS.map(String), 'inf'];
  const total = sum(order.map((b) => durations[b] ?? 0));
  if (total === 0) return null;
  let seen = 0;
  for (const b of order) {
    seen += durations[b] ?? 0;
    if (seen >= total / 2) return b;
  }
  return null;
}

export function challengeView(days: ChallengeDay[]) {
  const labels = days.map((d) => d.day.slice(5));
  const started = sum(days.map((d) => d.started));
  const passed = sum(days.map((d) => d.passed));
  const refused = sum(days.map((d) => d.refused));
  const codes = [...new Set(days.flatMap((d) => Object.keys(d.reasons)))];
  const perReason = codes
    .map((code) => ({ code, label: REASONS[code] ?? code, values: days.map((d) => d.reasons[code] ?? 0) }))
    .map((r) => ({ ...r, total: sum(r.values), last: r.values.at(-1) ?? 0, rising: rising(r.values) }))
    .sort((a, b) => b.total - a.total);
  const scale = Math.max(1, ...perReason.flatMap((r) => r.values));
  const durations: Record<string, number> = {};
  for (const d of days) for (const [b, n] of Object.entries(d.durations)) durations[b] = (durations[b] ?? 0) + n;
  const buckets = [...DURATION_BUCKETS.map(String), 'inf'];
  const firstRefusals = sum(days.map((d) => d.firstRefusals));
  const passedAfterRefusal = sum(days.map((d) => d.passedAfterRefusal));
  const median = medianBucket(durations);
  return {
    totals: { started, passed, refused, unfinished: Math.max(0, started - passed - refused), passRate: percent(passed, passed + refused) },
    retry: { firstRefusals, passedAfterRefusal, share: percent(passedAfterRefusal, firstRefusals) },
    median: median === null ? null : median === 'inf' ? 'over 60 s' : `${median} s or less`,
    reasons: perReason.map((r) => ({ ...r, chart: sparkline(`${r.label}: ${r.values.join(', ')} per day`, r.values, scale, r.rising ? 'chart-bad' : 'chart-accent') })),
    days: [...days].reverse(),
    outcomesChart: stackedBars(
      'Challenges per day: passed, refused and not finished',
      labels,
      [
        { label: 'passed', tone: 'chart-ok', values: days.map((d) => d.passed) },
        { label: 'refused', tone: 'chart-bad', values: days.map((d) => d.refused) },
        { label: 'not finished', tone: 'chart-idle', values: days.map((d) => Math.max(0, d.started - d.passed - d.refused)) },
      ],
      'chart-outcomes',
    ),
    durationChart: stackedBars(
      'Passed challenges by time from the first frame to the decision',
      buckets.map((b) => (b === 'inf' ? '> 60 s' : `≤ ${b} s`)),
      [{ label: 'passed', tone: 'chart-accent', values: buckets.map((b) => durations[b] ?? 0) }],
      'chart-durations',
    ),
  };
}

/** The challenge in the field: daily counts of the operator's own users (no frames, scores or people). */
export function challengeRoutes(router: Router, deps: AdminDeps): void {
  router.get('/challenges', async (ctx) => {
    const requested = Number(ctx.query.days);
    const days = PERIODS.find((p) => p === requested) ?? PERIODS[0];
    const surface = SURFACES.find((s) => s.value && s.value === ctx.query.surface)?.value || undefined;
    const view = challengeView(await deps.challengeStats.daily(days, surface));
    await page(ctx, 'challenges', { title: 'Challenges', section: 'challenges', periods: PERIODS, surfaces: SURFACES, form: { days, surface: surface ?? '' }, ...view });
  });
}
