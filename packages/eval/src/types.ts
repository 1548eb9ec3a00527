/**
 * Shared result and embedder types. Every score in an `EvalResult` is ×100 (MTEB/C-MTEB report
 * convention, and the convention of cmteb-lite's reference numbers); `scale: 100` says so in the JSON.
 */

/**
 * An embedding function: `texts` [B] -> B vectors of one dimension D ([B, D]).
 * Pooling and any instruction prefix are the caller's business; this package only batches, caches and
 * compares the vectors by cosine similarity.
 */
export type EmbedFn = (texts: string[]) => Promise<ArrayLike<number>[]> | ArrayLike<number>[];

/** A named embedder, so results are labelled. `embedQueries`, when given, embeds retrieval/reranking queries. */
export interface Embedder {
  name: string;
  embed: EmbedFn;
  /** Optional asymmetric query encoder (e.g. a BGE-style instruction prefix); defaults to `embed`. */
  embedQueries?: EmbedFn;
}

export type TaskKind = 'sts' | 'reranking' | 'retrieval';
export const TASK_KINDS: readonly TaskKind[] = ['sts', 'reranking', 'retrieval'];

/** Time spent on one task. `encodeMs`: embedding (or building a lexical index); `scoreMs`: similarity + metrics. */
export interface TaskTiming {
  encodeMs: number;
  scoreMs: number;
  /** Texts actually encoded for this task (after de-duplication and the cross-task cache). */
  encodedTexts: number;
}

export interface StsScores {
  /** Spearman ×100 between similarity and gold score (scipy.stats.spearmanr, average ranks for ties). */
  spearman: number;
  pairs: number;
}

export interface RerankingScores {
  /** Mean sklearn average precision ×100. */
  map: number;
  /** Mean reciprocal rank cut at 10, ×100, ties broken pessimistically. */
  mrr10: number;
  queries: number;
  /** Queries left out because they have no positive or no negative (as MTEB's RerankingEvaluator). */
  skipped: number;
}

export interface RetrievalScores {
  ndcg10: number;
  recall10: number;
  recall100: number;
  mrr10: number;
  queries: number;
  corpus: number;
  /** Queries in queries.jsonl without any relevant qrel; BEIR leaves them out of the means. */
  skipped: number;
  ignoreIdenticalIds: boolean;
}

export interface EvalResult {
  /** Embedder (or lexical scorer) name, used as the column header and the results folder name. */
  embedder: string;
  suite: string;
  /** All metric values are multiplied by this (always 100). */
  scale: 100;
  sts?: StsScores;
  reranking?: RerankingScores;
  retrieval?: RetrievalScores;
  timings: { sts?: TaskTiming; reranking?: TaskTiming; retrieval?: TaskTiming; totalMs: number };
  /** Free-form facts worth keeping beside the scores: embedding dimension, BM25 parameters, date. */
  meta: Record<string, unknown>;
}
