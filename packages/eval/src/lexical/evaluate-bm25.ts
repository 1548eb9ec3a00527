import { topK } from '../search/topk.js';
import { candidates, scoreReranking } from '../tasks/reranking.js';
import { docText, planRetrieval, RETRIEVAL_DEPTH, scoreRetrieval, tieKeyFor } from '../tasks/retrieval.js';
import { scoreSts } from '../tasks/sts.js';
import { checkRequested, type TaskSuite } from '../tasks/suite.js';
import type { EvalResult, TaskKind, TaskTiming } from '../types.js';
import { Bm25Index, type Bm25Options } from './bm25.js';
import { charTokens } from './tokenize.js';

export interface Bm25EvalOptions extends Bm25Options {
  /** Text -> tokens. Default `charTokens` (lower-cased characters + character bigrams). */
  tokenize?: (text: string) => string[];
  /**
   * How an STS pair is scored. 'symmetric' (default): ½·(s(a→b)/s(a→a) + s(b→a)/s(b→b)), which makes
   * the raw, length-dependent BM25 score comparable across pairs. 'raw': s(a→b).
   */
  stsSimilarity?: 'symmetric' | 'raw';
  tasks?: TaskKind[];
  ignoreIdenticalIds?: boolean;
  name?: string;
}

/**
 * Lexical baseline without an embedder: BM25 on every task of the suite, scored with the same
 * metric code as `evaluate`. The index statistics (IDF, avgdl) come from each task's own distinct
 * texts: STS sentences; reranking queries + candidates; the retrieval corpus. With the defaults this
 * reproduces cmteb-lite's "BM25 chars+bigrams" reference row.
 */
export function evaluateBm25(suite: TaskSuite, options: Bm25EvalOptions = {}): EvalResult {
  const tokenize = options.tokenize ?? ((t: string) => charTokens(t));
  const bm = { k1: options.k1 ?? 1.2, b: options.b ?? 0.75 };
  const wanted = new Set<TaskKind>(options.tasks ?? ['sts', 'reranking', 'retrieval']);
  checkRequested('evaluateBm25', suite, options.tasks);
  const t0 = performance.now();
  const result: EvalResult = { embedder: options.name ?? 'BM25 chars+bigrams', suite: suite.name, scale: 100, timings: { totalMs: 0 }, meta: {} };

  if (suite.sts && wanted.has('sts')) {
    const s = suite.sts;
    let t = performance.now();
    const { index, tokens, position } = indexDistinct(s.sentences1.concat(s.sentences2), tokenize, bm);
    const timing: TaskTiming = { encodeMs: performance.now() - t, scoreMs: 0, encodedTexts: index.size };
    t = performance.now();
    const sims = s.sentences1.map((a, i) => {
      const ia = position.get(a)!;
      const ib = position.get(s.sentences2[i]!)!;
      const ab = index.scoreDoc(tokens[ia]!, ib);
      if (options.stsSimilarity === 'raw') return ab;
      const ba = index.scoreDoc(tokens[ib]!, ia);
      return (ratio(ab, index.scoreDoc(tokens[ia]!, ia)) + ratio(ba, index.scoreDoc(tokens[ib]!, ib))) / 2;
    });
    result.sts = scoreSts(s, sims);
    timing.scoreMs = performance.now() - t;
    result.timings.sts = timing;
  }

  if (suite.reranking && wanted.has('reranking')) {
    const r = suite.reranking;
    let t = performance.now();
    const all = r.instances.flatMap((x) => [x.query, ...candidates(x)]);
    const { index, tokens, position } = indexDistinct(all, tokenize, bm);
    const timing: TaskTiming = { encodeMs: performance.now() - t, scoreMs: 0, encodedTexts: index.size };
    t = performance.now();
    const scores = r.instances.map((x) => {
      const q = tokens[position.get(x.query)!]!;
      return Float64Array.from(candidates(x), (c) => index.scoreDoc(q, position.get(c)!));
    });
    result.reranking = scoreReranking(r, scores);
    timing.scoreMs = performance.now() - t;
    result.timings.reranking = timing;
  }

  if (suite.retrieval && wanted.has('retrieval')) {
    const rt = suite.retrieval;
    const plan = planRetrieval(rt, options.ignoreIdenticalIds ?? true);
    let t = performance.now();
    const index = new Bm25Index(rt.corpus.map((d) => tokenize(docText(d))), bm);
    const timing: TaskTiming = { encodeMs: performance.now() - t, scoreMs: 0, encodedTexts: index.size };
    t = performance.now();
    const rankings = plan.queries.map((qi, e) => {
      const row = index.scoreAll(tokenize(rt.queries[qi]!.text));
      return topK(row, RETRIEVAL_DEPTH, { exclude: plan.exclude[e]!, tieKey: tieKeyFor(plan, e) }).indices;
    });
    result.retrieval = scoreRetrieval(plan, rankings);
    timing.scoreMs = performance.now() - t;
    result.timings.retrieval = timing;
  }

  result.timings.totalMs = performance.now() - t0;
  result.meta = {
    method: 'BM25',
    k1: bm.k1,
    b: bm.b,
    idf: 'ln(1 + (N - n + 0.5) / (n + 0.5))',
    tokens: options.tokenize ? 'custom' : 'lower-cased characters + character bigrams, whitespace dropped',
    stsSimilarity: options.stsSimilarity ?? 'symmetric',
    index: 'per task: distinct STS sentences / reranking queries+candidates / retrieval corpus',
    date: new Date().toISOString(),
  };
  return result;
}

/** 0 when the self-score is 0 (an empty text matches nothing, itself included). */
function ratio(x: number, self: number): number {
  return self > 0 ? x / self : 0;
}

function indexDistinct(texts: string[], tokenize: (t: string) => string[], bm: Bm25Options) {
  const position = new Map<string, number>();
  const tokens: string[][] = [];
  for (const t of texts) {
    if (!position.has(t)) {
      position.set(t, tokens.length);
      tokens.push(tokenize(t));
    }
  }
  return { index: new Bm25Index(tokens, bm), tokens, position };
}
