/**
 * Hard-negative mining, as FlagEmbedding's `hn_mine`: rank a candidate pool for every query (by a
 * model's embeddings or by BM25), drop the query's own positives and the query itself, skip the
 * top ranks (`rangeStart`: likely unlabelled positives) and sample `count` negatives from ranks
 * [rangeStart, rangeEnd). Too few ranked candidates are topped up with random pool texts.
 */
import { Bm25Index, charTokens, cosineTopK } from '@retro/eval';
import { Generator, deriveSeed, permutation } from '@retro/data';
import { noGrad, scope } from '@retro/tensor';
import type { Triple } from './data/readers.js';
import type { TextEncoder } from './encoder.js';

/** Ranks `pool` for each query: best-first pool indices, at least `depth` of them where the pool allows. */
export type Ranker = (queries: readonly string[], pool: readonly string[], depth: number) => Int32Array[];

export interface MineOptions {
  /** First rank (0-based) negatives may come from. FlagEmbedding's default range 10-210 skips the top 10. */
  rangeStart: number;
  /** One past the last rank sampled. */
  rangeEnd: number;
  /** Negatives per query (FlagEmbedding: 15). */
  count: number;
  seed: number;
  /** Candidate texts (default: every pos and neg text of the input). */
  pool?: readonly string[];
  /** Prepended to queries when ranking (the model's query instruction); not written out. */
  queryInstruction?: string;
}

export interface MineReport {
  /** Queries that needed random top-up negatives because the ranked range had too few. */
  toppedUp: number;
  poolSize: number;
}

/** triples [N] -> triples with `neg` replaced by mined negatives (query and pos kept). */
export function mineHardNegatives(triples: readonly Triple[], rank: Ranker, options: MineOptions): { triples: Triple[]; report: MineReport } {
  const { rangeStart, rangeEnd, count } = options;
  if (!Number.isInteger(rangeStart) || !Number.isInteger(rangeEnd) || rangeStart < 0 || rangeEnd <= rangeStart) {
    throw new Error(`mineHardNegatives: need integers 0 <= rangeStart < rangeEnd, got ${rangeStart}-${rangeEnd}`);
  }
  if (!Number.isInteger(count) || count < 1) throw new Error(`mineHardNegatives: count must be a positive integer, got ${count}`);
  const pool = [...new Set(options.pool ?? triples.flatMap((t) => [...t.pos, ...t.neg]))];
  if (pool.length === 0) throw new Error('mineHardNegatives: the candidate pool is empty');
  const instruction = options.queryInstruction ?? '';
  const rankings = rank(triples.map((t) => instruction + t.query), pool, rangeEnd + 8);
  let toppedUp = 0;
  const out = triples.map((triple, i) => {
    const banned = new Set([triple.query, ...triple.pos]);
    const ranked = [...rankings[i]].map((j) => pool[j]).filter((text) => !banned.has(text));
    const window = ranked.slice(rangeStart, rangeEnd);
    const rng = new Generator(deriveSeed(options.seed, i));
    const chosen: string[] = [];
    const order = permutation(window.length, rng);
    for (let k = 0; k < order.length && chosen.length < count; k++) chosen.push(window[order[k]]);
    if (chosen.length < count) {
      toppedUp++;
      const taken = new Set([...banned, ...chosen]);
      const rest = permutation(pool.length, rng);
      for (let k = 0; k < rest.length && chosen.length < count; k++) {
        const text = pool[rest[k]];
        if (!taken.has(text)) {
          taken.add(text);
          chosen.push(text);
        }
      }
    }
    return { query: triple.query, pos: [...triple.pos], neg: chosen };
  });
  return { triples: out, report: { toppedUp, poolSize: pool.length } };
}

/** BM25 over character unigrams + bigrams (cmteb-lite's lexical baseline). */
export function bm25Ranker(): Ranker {
  return (queries, pool, depth) => {
    const index = new Bm25Index(pool.map((t) => charTokens(t)));
    return queries.map((q) => {
      const scores = index.scoreAll(charTokens(q));
      const order = Int32Array.from(scores.keys());
      // best first; ties by pool position so the ranking is deterministic
      order.sort((a, b) => scores[b] - scores[a] || a - b);
      return order.subarray(0, Math.min(depth, order.length));
    });
  };
}

/** Cosine of pooled embeddings from `encoder` (eval mode, no graph). */
export function embeddingRanker(encoder: TextEncoder, batchSize = 64): Ranker {
  const embedAll = (texts: readonly string[]) => {
    const model = encoder.model;
    const wasTraining = model.training;
    model.train(false);
    try {
      return noGrad(() => {
        const rows: Float32Array[] = [];
        // length-sorted batches pad little; rows are put back in input order
        const ids = encoder.tokenize(texts);
        const order = texts.map((_, i) => i).sort((a, b) => ids[b].length - ids[a].length);
        let dim = 0;
        for (let start = 0; start < order.length; start += batchSize) {
          const idx = order.slice(start, start + batchSize);
          const values = scope(() => encoder.embed(idx.map((i) => texts[i])).toFloat32Array());
          dim = values.length / idx.length;
          idx.forEach((i, b) => (rows[i] = values.slice(b * dim, (b + 1) * dim)));
        }
        const data = new Float32Array(texts.length * dim);
        rows.forEach((r, i) => data.set(r, i * dim));
        return { data, rows: texts.length, dim };
      });
    } finally {
      model.train(wasTraining);
    }
  };
  return (queries, pool, depth) => {
    const corpus = embedAll(pool);
    const q = embedAll(queries);
    return cosineTopK(q, corpus, Math.min(depth, pool.length)).map((r) => r.indices);
  };
}
