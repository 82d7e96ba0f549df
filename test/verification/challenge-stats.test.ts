import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeView, medianBucket, rising } from '../../src/admin/challenges.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { ChallengeStats } from '../../src/verification/index.js';

describe('challenge field statistics', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-chstats-'));
  let db: Database;
  let today = new Date('2026-12-05T10:00:00Z');
  let stats: ChallengeStats;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: null, dataDir: dir, holder: 'test' });
    await db.migrate();
    stats = new ChallengeStats(db.prisma, () => today);
  });

  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps daily counters per surface and reads them back day by day, zeros included', async () => {
    await stats.record({ kind: 'started', surface: 'signin' });
    await stats.record({ kind: 'refused', surface: 'signin', reason: 'NO_RETURN', firstRefusal: true });
    today = new Date('2026-12-07T09:00:00Z');
    // Concurrent upserts of one counter (several instances) all land.
    await Promise.all(Array.from({ length: 5 }, () => stats.record({ kind: 'started', surface: 'signin' })));
    await stats.record({ kind: 'passed', surface: 'signin', durationMs: 4200, afterRefusal: true });
    await stats.record({ kind: 'passed', surface: 'reenroll', durationMs: 75_000, afterRefusal: false });
    for (let i = 0; i < 3; i++) await stats.record({ kind: 'refused', surface: 'signin', reason: 'WRONG_MOVEMENT', firstRefusal: i === 0 });

    const days = await stats.daily(3);
    expect(days.map((d) => d.day)).toEqual(['2026-12-05', '2026-12-06', '2026-12-07']);
    expect(days[0]).toMatchObject({ started: 1, refused: 1, reasons: { NO_RETURN: 1 }, firstRefusals: 1 });
    expect(days[1]).toMatchObject({ started: 0, passed: 0, refused: 0, reasons: {} });
    expect(days[2]).toMatchObject({ started: 5, passed: 2, refused: 3, reasons: { WRONG_MOVEMENT: 3 }, firstRefusals: 1, passedAfterRefusal: 1, durations: { '5': 1, inf: 1 } });
    expect((await stats.daily(1, 'reenroll'))[0]).toMatchObject({ passed: 1, started: 0 });

    const view = challengeView(days);
    expect(view.totals).toMatchObject({ started: 6, passed: 2, refused: 4, unfinished: 0, passRate: '33 %' });
    expect(view.retry).toEqual({ firstRefusals: 2, passedAfterRefusal: 1, share: '50 %' });
    expect(view.reasons.map((r) => [r.code, r.total, r.rising])).toEqual([
      ['WRONG_MOVEMENT', 3, true],
      ['NO_RETURN', 1, false],
    ]);
    expect(view.outcomesChart).toMatch(/^<svg class="chart"[^>]+role="img"/);
    // No script and no inline style: the console's CSP allows neither.
    expect(view.outcomesChart + view.durationChart + view.reasons[0].chart).not.toMatch(/<script|style=/);
  });

  it('marks a reason rising only when its latest day is well above its own level', () => {
    expect(rising([0, 0, 0, 3])).toBe(true);
    expect(rising([0, 0, 0, 2])).toBe(false);
    expect(rising([4, 5, 3, 6])).toBe(false);
    expect(rising([4, 5, 3, 10])).toBe(true);
    expect(medianBucket({ '3': 1, '5': 1, '8': 3 })).toBe('8');
    expect(medianBucket({})).toBeNull();
  });
});
