/**
 * Average precision of one ranking, as `sklearn.metrics.average_precision_score(labels, scores)`:
 * AP = Σ_n (R_n − R_{n−1}) · P_n over the DISTINCT score thresholds n, highest first, so items with
 * equal scores enter together (no optimistic or pessimistic order among ties).
 *
 * labels [N]: truthy = relevant; scores [N]. Returns a fraction in [0, 1]; NaN when there is no
 * relevant item (sklearn warns and the value is meaningless; callers skip such queries).
 */
export function averagePrecision(labels: ArrayLike<number | boolean>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (scores.length !== n) {
    throw new Error(`averagePrecision: labels has ${n} entries, scores has ${scores.length}; expected equal lengths`);
  }
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i]!)) throw new Error(`averagePrecision: scores[${i}] is not finite (${scores[i]})`);
    if (labels[i]) positives++;
  }
  if (positives === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let ap = 0;
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let i = 0;
  while (i < n) {
    const s = scores[order[i]!]!;
    // Consume the whole tie group: one threshold.
    while (i < n && scores[order[i]!] === s) {
      if (labels[order[i]!]) tp++;
      seen++;
      i++;
    }
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}
