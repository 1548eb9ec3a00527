/**
 * The PyTorch reference run of this experiment (issue text), x100, zero-shot on cmteb-lite.
 * `undefined` = not reported by the reference.
 */
export type ModelName = 'init' | 'mlm' | 'retromae';
export type MetricKey = 'sts.spearman' | 'reranking.map' | 'reranking.mrr10' | 'retrieval.ndcg10' | 'retrieval.recall10' | 'retrieval.mrr10';

export const PYTORCH_REFERENCE = {
  /** The reference run trained this many steps; its numbers describe no other length. */
  steps: 1200,
  cls: {
    'retrieval.ndcg10': { init: 68.5, mlm: 40.6, retromae: 50.7 },
    'reranking.map': { init: 76.8, mlm: 62.8, retromae: 67.2 },
    'sts.spearman': { init: 48.5, mlm: 37.4, retromae: 32.1 },
  } as Partial<Record<MetricKey, Record<ModelName, number>>>,
  mean: {
    'retrieval.ndcg10': { init: 73.1, mlm: 62.6, retromae: 61.7 },
  } as Partial<Record<MetricKey, Record<ModelName, number>>>,
  finalLoss: { mlm: 5.08, retromaeEncoder: 5.21, retromaeDecoder: 5.46 },
  /** RetroMAE step time / MLM step time. */
  stepCostRatio: 1.5,
  bm25: { 'sts.spearman': 64.8, 'reranking.map': 86.1, 'retrieval.ndcg10': 83.3 } as Partial<Record<MetricKey, number>>,
  data: { vocabSize: 5159, chunks: 114_909, tokens: 6.41e6 },
} as const;

export const METRIC_LABELS: Record<MetricKey, string> = {
  'sts.spearman': 'STS-B Spearman',
  'reranking.map': 'Reranking MAP',
  'reranking.mrr10': 'Reranking MRR@10',
  'retrieval.ndcg10': 'Retrieval nDCG@10',
  'retrieval.recall10': 'Retrieval Recall@10',
  'retrieval.mrr10': 'Retrieval MRR@10',
};
