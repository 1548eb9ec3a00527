import type { EvalResult } from './types.js';

/**
 * cmteb-lite's published lexical baselines (its README, `tools/lexical_baselines.json`), ×100, as
 * results so they can stand as columns in `formatTable`. Recall@100 was not published.
 */
export const CMTEB_LITE_REFERENCE: readonly EvalResult[] = [
  reference('ref: TF-IDF char-bigram', 61.66, [84.69, 84.59], [79.32, 90.38, 76.66]),
  reference('ref: BM25 chars+bigrams', 64.77, [86.07, 86.19], [83.29, 92.27, 81.23]),
];

function reference(name: string, spearman: number, [map, rmrr]: number[], [ndcg10, recall10, mrr10]: number[]): EvalResult {
  return {
    embedder: name,
    suite: 'cmteb-lite',
    scale: 100,
    sts: { spearman, pairs: 1361 },
    reranking: { map, mrr10: rmrr!, queries: 1000, skipped: 0 },
    retrieval: { ndcg10: ndcg10!, recall10: recall10!, recall100: NaN, mrr10: mrr10!, queries: 291, corpus: 7456, skipped: 0, ignoreIdenticalIds: true },
    timings: { totalMs: NaN },
    meta: { source: 'shared/cmteb-lite/README.md' },
  };
}
