import type { Prisma } from '../store/database.js';
import type { ChallengeEvent, ChallengeSurface } from './live-challenge.js';

/** Upper bounds (seconds) of the time-to-complete buckets: a brisk answer takes 3–6 s, the lifetime is at most 60 s. */
export const DURATION_BUCKETS = [3, 5, 8, 12, 20, 30, 60] as const;

/** The counters one event adds to (one each). */
export function countersOf(event: ChallengeEvent): string[] {
  switch (event.kind) {
    case 'started':
      return ['started'];
    case 'passed': {
      const seconds = event.durationMs / 1000;
      const bucket = DURATION_BUCKETS.find((b) => seconds <= b);
      return ['passed', `seconds_le:${bucket ?? 'inf'}`, ...(event.afterRefusal ? ['passed_after_refusal'] : [])];
    }
    case 'refused':
      return ['refused', `refused:${event.reason}`, ...(event.firstRefusal ? ['first_refusal'] : [])];
  }
}

/** One day of the challenge in the field (UTC), both surfaces together unless asked for one. */
export interface ChallengeDay {
  day: string;
  started: number;
  passed: number;
  refused: number;
  /** Refusals by the verifier's code (WRONG_MOVEMENT, NO_RETURN, …). */
  reasons: Record<string, number>;
  /** Sittings (an interaction, a re-enrollment) with their first refusal, and passes that came after one. */
  firstRefusals: number;
  passedAfterRefusal: number;
  /** Passed challenges by time from the first frame to the decision: bucket upper bound in seconds ('inf') → count. */
  durations: Record<string, number>;
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * How the challenge does with the operator's own users: daily counters in PostgreSQL, shared by every instance
 * (each event is one upsert per counter). Nothing about a person is kept: no frames, scores, accounts or times of day.
 */
export class ChallengeStats {
  constructor(
    private readonly prisma: Prisma,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(event: ChallengeEvent): Promise<void> {
    const day = dayOf(this.now());
    for (const name of countersOf(event)) {
      await this.prisma.$executeRaw`INSERT INTO "challenge_daily_counts" ("day", "surface", "name", "count") VALUES (${day}::timestamp, ${event.surface}, ${name}, 1)
        ON CONFLICT ("day", "surface", "name") DO UPDATE SET "count" = "challenge_daily_counts"."count" + 1`;
    }
  }

  /** The last `days` days up to today, oldest first, every day present (zeros where nothing happened). */
  async daily(days: number, surface?: ChallengeSurface): Promise<ChallengeDay[]> {
    const today = new Date(`${dayOf(this.now())}T00:00:00Z`);
    const from = new Date(today.getTime() - (days - 1) * 86_400_000);
    const rows = await this.prisma.challengeDailyCount.findMany({ where: { day: { gte: from }, ...(surface && { surface }) } });
    const out = Array.from({ length: days }, (_, i): ChallengeDay => ({
      day: dayOf(new Date(from.getTime() + i * 86_400_000)),
      started: 0,
      passed: 0,
      refused: 0,
      reasons: {},
      firstRefusals: 0,
      passedAfterRefusal: 0,
      durations: {},
    }));
    const byDay = new Map(out.map((d) => [d.day, d]));
    for (const row of rows) {
      const d = byDay.get(dayOf(row.day));
      if (!d) continue;
      const [name, arg] = row.name.split(':');
      if (name === 'started' || name === 'passed') d[name] += row.count;
      else if (name === 'refused' && arg) d.reasons[arg] = (d.reasons[arg] ?? 0) + row.count;
      else if (name === 'refused') d.refused += row.count;
      else if (name === 'first_refusal') d.firstRefusals += row.count;
      else if (name === 'passed_after_refusal') d.passedAfterRefusal += row.count;
      else if (name === 'seconds_le' && arg) d.durations[arg] = (d.durations[arg] ?? 0) + row.count;
    }
    return out;
  }
}
