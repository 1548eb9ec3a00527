/**
 * Ranked-list metrics (BEIR / pytrec_eval conventions). Inputs are the GAINS of a ranked list, best
 * first: `ranked[i]` = qrel relevance of the item at rank i+1 (0 = not relevant). Callers order ties
 * pessimistically before calling (see `pessimisticOrder`). All return fractions, not ×100.
 */

/** 1/rank of the first item with gain > 0 within the top k, else 0. */
export function mrrAtK(ranked: ArrayLike<number>, k: number): number {
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if (ranked[i]! > 0) return 1 / (i + 1);
  return 0;
}

/** DCG@k with linear gains and log2(rank+1) discount (trec_eval / pytrec_eval `ndcg_cut`). */
export function dcgAtK(ranked: ArrayLike<number>, k: number): number {
  const n = Math.min(k, ranked.length);
  let dcg = 0;
  for (let i = 0; i < n; i++) {
    const g = ranked[i]!;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  return dcg;
}

/**
 * nDCG@k: DCG of the ranking over DCG of the ideal ordering of ALL the query's judged gains
 * (`qrelGains`, any order), as pytrec_eval `ndcg_cut_k` and BEIR. NaN if no gain is positive.
 */
export function ndcgAtK(ranked: ArrayLike<number>, qrelGains: ArrayLike<number>, k: number): number {
  const ideal = Array.from(qrelGains).filter((g) => g > 0).sort((a, b) => b - a);
  const idcg = dcgAtK(ideal, k);
  if (idcg === 0) return NaN;
  return dcgAtK(ranked, k) / idcg;
}

/** |relevant ∩ top-k| / |relevant|, where `relevantCount` counts qrels with gain > 0. NaN if none. */
export function recallAtK(ranked: ArrayLike<number>, relevantCount: number, k: number): number {
  if (relevantCount <= 0) return NaN;
  const n = Math.min(k, ranked.length);
  let hits = 0;
  for (let i = 0; i < n; i++) if (ranked[i]! > 0) hits++;
  return hits / relevantCount;
}

/**
 * Indices of `scores` [N] best first; equal scores put lower gains first (a relevant item after the
 * non-relevant ones it ties with, cmteb-lite's pessimistic rule), then lower index. For short lists
 * (reranking candidates); the corpus-sized case uses `topK` with a tie key.
 */
export function pessimisticOrder(scores: ArrayLike<number>, gains: ArrayLike<number>): number[] {
  if (scores.length !== gains.length) {
    throw new Error(`pessimisticOrder: scores has ${scores.length} entries, gains has ${gains.length}`);
  }
  return Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b]! - scores[a]! || gains[a]! - gains[b]! || a - b,
  );
}

/** Mean of the non-NaN entries (NaN marks an undefined per-query value that BEIR/MTEB leave out). */
export function meanDefined(values: ArrayLike<number>): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      sum += v;
      count++;
    }
  }
  return { mean: count ? sum / count : NaN, count };
}
