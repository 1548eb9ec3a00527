import { topK, type TopKResult } from './topk.js';

/** Row-major matrix of embeddings: `data` is [rows, dim]. */
export interface EmbeddingMatrix {
  data: Float32Array;
  rows: number;
  dim: number;
}

/** Checks `data.length === rows * dim`, naming the caller and the shape on failure. */
export function checkMatrix(caller: string, name: string, m: EmbeddingMatrix): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.dim) || m.rows < 0 || m.dim <= 0 || m.data.length !== m.rows * m.dim) {
    throw new Error(`${caller}: ${name} should be [rows, dim] = [${m.rows}, ${m.dim}] (${m.rows * m.dim} values), found ${m.data.length} values`);
  }
}

/**
 * Unit-length copy of every row of m [N, D]. A zero row stays zero, so its cosine with anything is 0
 * (torch.nn.functional.normalize's eps behaviour, as in sentence-transformers' cos_sim).
 * The norm is accumulated in float64.
 */
export function normalizeRows(m: EmbeddingMatrix): EmbeddingMatrix {
  checkMatrix('normalizeRows', 'matrix', m);
  const { rows, dim, data } = m;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let t = 0; t < dim; t++) ss += data[o + t]! * data[o + t]!;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let t = 0; t < dim; t++) out[o + t] = data[o + t]! * inv;
  }
  return { data: out, rows, dim };
}

/** Dot product of row i of a and row j of b (both [*, D]), float64 accumulation. */
export function rowDot(a: EmbeddingMatrix, i: number, b: EmbeddingMatrix, j: number): number {
  const d = a.dim;
  const ao = i * d;
  const bo = j * d;
  let s = 0;
  for (let t = 0; t < d; t++) s += a.data[ao + t]! * b.data[bo + t]!;
  return s;
}

/**
 * Dot products of every row of q [Q, D] block [q0, q1) with every row of c [N, D] block [c0, c1),
 * written to out[(qi - q0) * stride + cj]. Register-blocked 4 queries x 2 docs: each loaded doc
 * value feeds four accumulators, each query value two, which is what makes plain JS fast here.
 */
function dotBlock(q: EmbeddingMatrix, q0: number, q1: number, c: EmbeddingMatrix, c0: number, c1: number, out: Float64Array, stride: number): void {
  const D = q.dim;
  const qd = q.data;
  const cd = c.data;
  let qi = q0;
  for (; qi + 4 <= q1; qi += 4) {
    const o0 = qi * D;
    const o1 = o0 + D;
    const o2 = o1 + D;
    const o3 = o2 + D;
    const r0 = (qi - q0) * stride;
    const r1 = r0 + stride;
    const r2 = r1 + stride;
    const r3 = r2 + stride;
    let j = c0;
    for (; j + 2 <= c1; j += 2) {
      const x0 = j * D;
      const y0 = x0 + D;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let t = 0; t < D; t++) {
        const x = cd[x0 + t]!;
        const y = cd[y0 + t]!;
        const p0 = qd[o0 + t]!;
        const p1 = qd[o1 + t]!;
        const p2 = qd[o2 + t]!;
        const p3 = qd[o3 + t]!;
        a0 += p0 * x; a1 += p1 * x; a2 += p2 * x; a3 += p3 * x;
        b0 += p0 * y; b1 += p1 * y; b2 += p2 * y; b3 += p3 * y;
      }
      out[r0 + j] = a0; out[r0 + j + 1] = b0;
      out[r1 + j] = a1; out[r1 + j + 1] = b1;
      out[r2 + j] = a2; out[r2 + j + 1] = b2;
      out[r3 + j] = a3; out[r3 + j + 1] = b3;
    }
    for (; j < c1; j++) {
      const x0 = j * D;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let t = 0; t < D; t++) {
        const x = cd[x0 + t]!;
        a0 += qd[o0 + t]! * x; a1 += qd[o1 + t]! * x; a2 += qd[o2 + t]! * x; a3 += qd[o3 + t]! * x;
      }
      out[r0 + j] = a0; out[r1 + j] = a1; out[r2 + j] = a2; out[r3 + j] = a3;
    }
  }
  for (; qi < q1; qi++) {
    const o = qi * D;
    const r = (qi - q0) * stride;
    for (let j = c0; j < c1; j++) {
      const x0 = j * D;
      let a = 0;
      for (let t = 0; t < D; t++) a += qd[o + t]! * cd[x0 + t]!;
      out[r + j] = a;
    }
  }
}

export interface CosineSearchOptions {
  /** Per query, the corpus row to leave out (ignore_identical_ids), or -1. */
  exclude?: (query: number) => number;
  /** Per query, the tie key for equal scores (see `topK`); undefined for index order. */
  tieKey?: (query: number) => ((doc: number) => number) | undefined;
  /** Set when both matrices already have unit rows (skips a copy). */
  normalized?: boolean;
  /** Queries per block: the score buffer is [queryBlock, N] float64. Default 64. */
  queryBlock?: number;
  /** Corpus rows per cache block. Default 512 (512 x 256 dims x 4 B = 512 KiB). */
  corpusBlock?: number;
}

/**
 * Exact brute-force cosine top-k: queries [Q, D] against corpus [N, D], normalised once, scored a
 * query block x corpus block at a time, each query row reduced by a partial top-k selection.
 * Returns Q results, each with k (or fewer) corpus indices best-first and their cosines.
 */
export function cosineTopK(queries: EmbeddingMatrix, corpus: EmbeddingMatrix, k: number, options: CosineSearchOptions = {}): TopKResult[] {
  checkMatrix('cosineTopK', 'queries', queries);
  checkMatrix('cosineTopK', 'corpus', corpus);
  if (queries.dim !== corpus.dim) {
    throw new Error(`cosineTopK: queries are [${queries.rows}, ${queries.dim}] but corpus is [${corpus.rows}, ${corpus.dim}]; dims must match`);
  }
  const q = options.normalized ? queries : normalizeRows(queries);
  const c = options.normalized ? corpus : normalizeRows(corpus);
  const N = c.rows;
  const qb = Math.max(1, options.queryBlock ?? 64);
  const cb = Math.max(2, options.corpusBlock ?? 512);
  const buf = new Float64Array(Math.min(qb, q.rows) * N);
  const results: TopKResult[] = new Array(q.rows);
  for (let q0 = 0; q0 < q.rows; q0 += qb) {
    const q1 = Math.min(q.rows, q0 + qb);
    for (let c0 = 0; c0 < N; c0 += cb) dotBlock(q, q0, q1, c, c0, Math.min(N, c0 + cb), buf, N);
    for (let qi = q0; qi < q1; qi++) {
      results[qi] = topK(buf, k, { exclude: options.exclude?.(qi) ?? -1, tieKey: options.tieKey?.(qi) }, (qi - q0) * N, N);
    }
  }
  return results;
}
