import type { Analysis, CompareResult, QualityIssue } from '../face/index.js';

export type AttemptOutcome = 'verified' | 'quality' | 'liveness_failed' | 'no_match';

export interface AttemptDecision {
  outcome: AttemptOutcome;
  /** The frame the outcome rests on; null when no frame passed the quality checks. */
  frame: number | null;
  /** Its best cosine against the account's templates (−1 without templates). */
  similarity: number | null;
  /** Its p(live). */
  liveness: number | null;
  /** What to fix when no frame was usable: the issues of the frame with the fewest. */
  issues: QualityIssue[];
  /** Every quality code seen in any frame, for the audit trail. */
  codes: string[];
  analysed: number;
}

type Usable = { frame: number; live: boolean; liveness: number; match: CompareResult };

const bestMatch = (list: Usable[]) => list.reduce((b, u) => (u.match.similarity > b.match.similarity ? u : b));

/**
 * Decides an attempt from its analysed frames. A frame verifies only on its own: quality, liveness and match all on
 * the same frame, so a live frame of an attacker can never vouch for a printed photo of the victim in the same
 * upload (a mean over frames would let it). When no frame verifies, the refusal says "not live" unless some usable
 * frame was live, so a refused presentation attack learns nothing about the match.
 */
export function decideAttempt(analyses: Analysis[], compare: (embedding: Float32Array) => CompareResult): AttemptDecision {
  const codes = [...new Set(analyses.flatMap((a) => a.quality.issues.map((i) => i.code)))];
  const usable: Usable[] = analyses.flatMap((a, frame) =>
    a.quality.ok && a.embedding && a.liveness ? [{ frame, live: a.liveness.live, liveness: a.liveness.score, match: compare(a.embedding) }] : [],
  );
  const base = { codes, analysed: analyses.length, issues: [] };
  if (usable.length === 0) {
    // A frame with a face is closer to usable than one without; then the one with the fewest issues.
    const distance = (a: Analysis) => (a.face ? a.quality.issues.length : Number.POSITIVE_INFINITY);
    const closest = analyses.reduce((best, a) => (distance(a) < distance(best) ? a : best));
    return { ...base, outcome: 'quality', frame: null, similarity: null, liveness: null, issues: closest.quality.issues };
  }
  const verified = usable.filter((u) => u.live && u.match.match);
  const live = usable.filter((u) => u.live);
  const [outcome, chosen]: [AttemptOutcome, Usable] =
    verified.length > 0 ? ['verified', bestMatch(verified)] : live.length > 0 ? ['no_match', bestMatch(live)] : ['liveness_failed', bestMatch(usable)];
  return { ...base, outcome, frame: chosen.frame, similarity: chosen.match.similarity, liveness: chosen.liveness };
}
