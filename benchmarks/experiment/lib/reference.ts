/**
 * The PyTorch reference run of this experiment (issue text), x100, zero-shot on cmteb-lite.
 * `undefined` = not reported by the reference.
 */
export type ModelName = 'init' | 'mlm' | 'retromae' | 'cont-mlm' | 'cont-retromae';
export type MetricKey = 'sts.spearman' | 'reranking.map' | 'reranking.mrr10' | 'retrieval.ndcg10' | 'retrieval.recall10' | 'retrieval.mrr10';

export const PYTORCH_REFERENCE = {
  /** The reference run trained this many steps; its numbers describe no other length. */
  steps: 1200,
  cls: {
    'retrieval.ndcg10': { init: 68.5, mlm: 40.6, retromae: 50.7 },
    'reranking.map': { init: 76.8, mlm: 62.8, retromae: 67.2 },
    'sts.spearman': { init: 48.5, mlm: 37.4, retromae: 32.1 },
  } as Partial<Record<MetricKey, Partial<Record<ModelName, number>>>>,
  mean: {
    'retrieval.ndcg10': { init: 73.1, mlm: 62.6, retromae: 61.7 },
  } as Partial<Record<MetricKey, Partial<Record<ModelName, number>>>>,
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

/**
 * The independent PyTorch run of the continued-pretraining shape (issue #20): BERT with the
 * reference vocabulary, the 1,200-step MLM model as base, 1,200 more steps of RetroMAE or of MLM
 * (the control), the first experiment's hyper-parameters; CLS pooling, x100.
 */
export const PYTORCH_CONTINUED = {
  baseSteps: 1200,
  continueSteps: 1200,
  cls: {
    'retrieval.ndcg10': { base: 40.6, mlm: 46.9, retromae: 66.4 },
    'reranking.map': { base: 62.8, mlm: 63.5, retromae: 75.9 },
    'sts.spearman': { base: 37.3, mlm: 28.1, retromae: 46.0 },
  } as Partial<Record<MetricKey, { base: number; mlm: number; retromae: number }>>,
} as const;

/** The seed's table (the RetroMAE paper's Chinese setting, C-MTEB, zero-shot), for the layout and the claims. */
export const SEED_TABLE = [
  { model: 'chinese-bert-base (MLM-pretrained)', average: 21.27, retrieval: 2.87, reranking: 29.18 },
  { model: 'chinese-bert + RetroMAE', average: 39.67, retrieval: 38.76, reranking: 36.47 },
  { model: 'roberta + RetroMAE', average: 34.52, retrieval: 26.55, reranking: 36.18 },
  { model: 'xlm-roberta-base', average: 21.05, retrieval: 2.75, reranking: 31.66 },
] as const;
