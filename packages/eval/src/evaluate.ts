import { asEmbedder, EmbeddingCache, type EncodeProgress } from './embed.js';
import { cosineTopK, rowDot } from './search/cosine.js';
import { candidates, scoreReranking } from './tasks/reranking.js';
import { docText, planRetrieval, RETRIEVAL_DEPTH, scoreRetrieval, tieKeyFor } from './tasks/retrieval.js';
import { scoreSts } from './tasks/sts.js';
import { checkRequested, type TaskSuite } from './tasks/suite.js';
import type { EmbedFn, Embedder, EvalResult, TaskKind, TaskTiming } from './types.js';

export interface EvaluateOptions {
  /** Texts per embed() call. Default 32. */
  batchSize?: number;
  /** Run only these kinds (default: all present in the suite). */
  tasks?: TaskKind[];
  /** BEIR ignore_identical_ids. Default true, as cmteb-lite requires. */
  ignoreIdenticalIds?: boolean;
  /** Called after each embedded batch. */
  onProgress?: (p: EncodeProgress & { task: TaskKind }) => void;
  /** Extra facts to store in result.meta (checkpoint path, pooling, step). */
  meta?: Record<string, unknown>;
}

/**
 * Evaluates one embedder on every task of `suite` by cosine similarity. Scores are ×100.
 * Distinct texts are embedded once per call (a cache is shared across tasks), so `encodedTexts` of
 * a later task counts only texts not seen before.
 */
export async function evaluate(suite: TaskSuite, embedder: Embedder | EmbedFn, options: EvaluateOptions = {}): Promise<EvalResult> {
  const e = asEmbedder(embedder);
  const batchSize = options.batchSize ?? 32;
  const wanted = new Set<TaskKind>(options.tasks ?? ['sts', 'reranking', 'retrieval']);
  const ignoreIdenticalIds = options.ignoreIdenticalIds ?? true;
  checkRequested('evaluate', suite, options.tasks);
  let task: TaskKind = 'sts';
  const progress = options.onProgress ? (p: EncodeProgress) => options.onProgress!({ ...p, task }) : undefined;
  const docs = new EmbeddingCache(e.embed, e.name, batchSize, progress);
  const queries = e.embedQueries ? new EmbeddingCache(e.embedQueries, `${e.name} (queries)`, batchSize, progress) : docs;

  const t0 = performance.now();
  const result: EvalResult = { embedder: e.name, suite: suite.name, scale: 100, timings: { totalMs: 0 }, meta: {} };

  if (suite.sts && wanted.has('sts')) {
    task = 'sts';
    const s = suite.sts;
    const timing = newTiming();
    let t = performance.now();
    const a = await docs.encode(s.sentences1);
    const b = await docs.encode(s.sentences2);
    timing.encodedTexts = a.encoded + b.encoded;
    timing.encodeMs = performance.now() - t;
    t = performance.now();
    const sims = new Float64Array(s.gold.length);
    for (let i = 0; i < sims.length; i++) sims[i] = rowDot(a.matrix, i, b.matrix, i);
    result.sts = scoreSts(s, sims);
    timing.scoreMs = performance.now() - t;
    result.timings.sts = timing;
  }

  if (suite.reranking && wanted.has('reranking')) {
    task = 'reranking';
    const r = suite.reranking;
    const timing = newTiming();
    let t = performance.now();
    const q = await queries.encode(r.instances.map((x) => x.query));
    const candTexts = r.instances.flatMap(candidates);
    const c = await docs.encode(candTexts);
    timing.encodedTexts = q.encoded + c.encoded;
    timing.encodeMs = performance.now() - t;
    t = performance.now();
    let offset = 0;
    const scores = r.instances.map((inst, i) => {
      const n = inst.positive.length + inst.negative.length;
      const s = new Float64Array(n);
      for (let j = 0; j < n; j++) s[j] = rowDot(q.matrix, i, c.matrix, offset + j);
      offset += n;
      return s;
    });
    result.reranking = scoreReranking(r, scores);
    timing.scoreMs = performance.now() - t;
    result.timings.reranking = timing;
  }

  if (suite.retrieval && wanted.has('retrieval')) {
    task = 'retrieval';
    const rt = suite.retrieval;
    const plan = planRetrieval(rt, ignoreIdenticalIds);
    const timing = newTiming();
    let t = performance.now();
    const c = await docs.encode(rt.corpus.map(docText));
    const q = await queries.encode(plan.queries.map((qi) => rt.queries[qi]!.text));
    timing.encodedTexts = c.encoded + q.encoded;
    timing.encodeMs = performance.now() - t;
    t = performance.now();
    const hits = cosineTopK(q.matrix, c.matrix, RETRIEVAL_DEPTH, {
      normalized: true,
      exclude: (i) => plan.exclude[i]!,
      tieKey: (i) => tieKeyFor(plan, i),
    });
    result.retrieval = scoreRetrieval(plan, hits.map((h) => h.indices));
    timing.scoreMs = performance.now() - t;
    result.timings.retrieval = timing;
  }

  result.timings.totalMs = performance.now() - t0;
  result.meta = { dim: docs.dim, batchSize, date: new Date().toISOString(), ...options.meta };
  return result;
}

function newTiming(): TaskTiming {
  return { encodeMs: 0, scoreMs: 0, encodedTexts: 0 };
}
