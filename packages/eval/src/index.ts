export * from './types.js';
export * from './metrics/index.js';
export { topK, type TopKOptions, type TopKResult } from './search/topk.js';
export { cosineTopK, normalizeRows, rowDot, checkMatrix, type EmbeddingMatrix, type CosineSearchOptions } from './search/cosine.js';
export { loadStsTask, stsTask, scoreSts, type StsTask, type StsPair } from './tasks/sts.js';
export { loadRerankingTask, rerankingTask, scoreReranking, candidates, type RerankingTask, type RerankingInstance } from './tasks/reranking.js';
export {
  loadRetrievalTask,
  retrievalTask,
  planRetrieval,
  scoreRetrieval,
  tieKeyFor,
  docText,
  RETRIEVAL_DEPTH,
  type RetrievalTask,
  type RetrievalPlan,
  type RetrievalLoadOptions,
  type CorpusDoc,
  type Query,
} from './tasks/retrieval.js';
export { loadSuite, checkRequested, SUITE_FOLDERS, type TaskSuite, type SuiteLoadOptions } from './tasks/suite.js';
export { asEmbedder, EmbeddingCache, type EncodeProgress } from './embed.js';
export { evaluate, type EvaluateOptions } from './evaluate.js';
export { charTokens, type CharTokenOptions } from './lexical/tokenize.js';
export { Bm25Index, type Bm25Options } from './lexical/bm25.js';
export { evaluateBm25, type Bm25EvalOptions } from './lexical/evaluate-bm25.js';
export { formatTable, toJSON, writeResults, mainAverage, slug, type TableOptions } from './report.js';
export { CMTEB_LITE_REFERENCE } from './reference.js';
export { readJsonl, parseJsonl, FieldReader, type JsonlRecord } from './io/jsonl.js';
export {
  discoverTasks,
  detectJsonlTaskKind,
  taskRevision,
  TASK_LAYOUTS,
  type AnyTask,
  type TaskEntry,
  type DiscoverOptions,
} from './tasks/discover.js';
export { evaluateTasks, MAIN_METRIC, type TaskResult, type TasksResult, type EvaluateTasksOptions } from './run-tasks.js';
export { mtebTaskJson, writeMtebResults, type MtebModel } from './mteb.js';
