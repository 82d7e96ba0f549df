// Verification statistics over genuine and impostor similarity scores.

/** Area under the ROC curve (Mann–Whitney U; ties count one half). */
export function rocAuc(genuine: number[], impostor: number[]): number {
  if (genuine.length === 0 || impostor.length === 0) return NaN;
  const all = [...genuine.map((s) => ({ s, g: true })), ...impostor.map((s) => ({ s, g: false }))].sort((a, b) => a.s - b.s);
  let rankSumGenuine = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].g) rankSumGenuine += midRank;
    i = j;
  }
  const n = genuine.length;
  return (rankSumGenuine - (n * (n + 1)) / 2) / (n * impostor.length);
}

/** Fraction of pairs decided correctly when similarity ≥ threshold means "same person". */
export function accuracyAt(genuine: number[], impostor: number[], threshold: number): number {
  const tp = genuine.filter((s) => s >= threshold).length;
  const tn = impostor.filter((s) => s < threshold).length;
  return (tp + tn) / (genuine.length + impostor.length);
}

/** Threshold with the highest accuracy: the lowest such midpoint between consecutive distinct scores. */
export function bestThreshold(genuine: number[], impostor: number[]): { threshold: number; accuracy: number } {
  const scores = [...new Set([...genuine, ...impostor])].sort((a, b) => a - b);
  const candidates = [scores[0] - 1e-6, ...scores.slice(1).map((s, i) => (s + scores[i]) / 2), scores[scores.length - 1] + 1e-6];
  let best = { threshold: candidates[0], accuracy: -1 };
  for (const t of candidates) {
    const accuracy = accuracyAt(genuine, impostor, t);
    if (accuracy > best.accuracy) best = { threshold: t, accuracy };
  }
  return best;
}

export interface TenFold {
  folds: number;
  /** Mean and standard deviation (over the folds, population form) of the held-out accuracy. */
  mean: number;
  std: number;
  /** Each fold's held-out accuracy and the threshold chosen on the other nine. */
  accuracies: number[];
  thresholds: number[];
}

/** The k-th of `n` consecutive blocks of `items` (sizes differ by at most one). */
function block<T>(items: T[], k: number, n: number): T[] {
  return items.slice(Math.floor((k * items.length) / n), Math.floor(((k + 1) * items.length) / n));
}

/**
 * LFW's View-2 protocol: the threshold is chosen on nine folds (bestThreshold) and the accuracy measured on the
 * tenth, for each fold in turn. Folds are deterministic: genuine and impostor scores, each in input order, are cut
 * into `folds` consecutive blocks, and fold k is the k-th block of both — for LFW's pairs.txt (ten sets of 300
 * genuine then 300 impostor pairs) exactly its ten sets. Null with fewer than `folds` pairs of either kind.
 */
export function kFoldAccuracy(genuine: number[], impostor: number[], folds = 10): TenFold | null {
  if (genuine.length < folds || impostor.length < folds) return null;
  const accuracies: number[] = [];
  const thresholds: number[] = [];
  for (let k = 0; k < folds; k++) {
    const others = Array.from({ length: folds }, (_, j) => j).filter((j) => j !== k);
    const fit = bestThreshold(
      others.flatMap((j) => block(genuine, j, folds)),
      others.flatMap((j) => block(impostor, j, folds)),
    );
    thresholds.push(fit.threshold);
    accuracies.push(accuracyAt(block(genuine, k, folds), block(impostor, k, folds), fit.threshold));
  }
  const mean = accuracies.reduce((s, a) => s + a, 0) / folds;
  const std = Math.sqrt(accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / folds);
  return { folds, mean, std, accuracies, thresholds };
}

/**
 * True-accept rate at a false-accept rate: the threshold lets at most floor(far · impostors) impostor pairs
 * score above it. Only meaningful when there are at least 1/far impostor pairs.
 */
export function tarAtFar(genuine: number[], impostor: number[], far: number): { tar: number; threshold: number } {
  const sorted = [...impostor].sort((a, b) => b - a);
  const threshold = sorted[Math.floor(far * sorted.length)];
  return { tar: genuine.filter((s) => s > threshold).length / genuine.length, threshold };
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
