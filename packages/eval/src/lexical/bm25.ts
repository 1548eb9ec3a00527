export interface Bm25Options {
  /** Term-frequency saturation. Default 1.2 (Lucene/Elasticsearch; what cmteb-lite's reference used). */
  k1?: number;
  /** Length normalisation. Default 0.75. */
  b?: number;
}

/**
 * Okapi BM25 over pre-tokenised documents [N][L_i], with Lucene's non-negative IDF
 * idf(t) = ln(1 + (N − n_t + 0.5) / (n_t + 0.5)) and
 * w(t, d) = idf(t) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|d|/avgdl)).
 * A query scores Σ over its tokens (repeats counted) of w(t, d). Float64 throughout.
 */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly size: number;
  readonly avgdl: number;
  private readonly vocab = new Map<string, number>();
  private readonly idfs: number[] = [];
  /** Postings per term id: doc ids and precomputed weights. */
  private readonly postDocs: Int32Array[] = [];
  private readonly postWeights: Float64Array[] = [];
  /** Per doc: term id -> weight, for scoring single documents. */
  private readonly docWeights: Map<number, number>[] = [];

  constructor(docs: string[][], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1)) throw new Error(`Bm25Index: need k1 >= 0 and 0 <= b <= 1, found k1=${this.k1}, b=${this.b}`);
    if (docs.length === 0) throw new Error('Bm25Index: no documents');
    this.size = docs.length;
    let total = 0;
    const tfs = docs.map((tokens) => {
      total += tokens.length;
      const tf = new Map<number, number>();
      for (const tok of tokens) {
        let id = this.vocab.get(tok);
        if (id === undefined) this.vocab.set(tok, (id = this.vocab.size));
        tf.set(id, (tf.get(id) ?? 0) + 1);
      }
      return tf;
    });
    this.avgdl = total / docs.length;
    const df = new Int32Array(this.vocab.size);
    for (const tf of tfs) for (const id of tf.keys()) df[id]!++;
    const N = this.size;
    for (let id = 0; id < df.length; id++) this.idfs.push(Math.log(1 + (N - df[id]! + 0.5) / (df[id]! + 0.5)));
    const fill = new Int32Array(df.length);
    for (let id = 0; id < df.length; id++) {
      this.postDocs.push(new Int32Array(df[id]!));
      this.postWeights.push(new Float64Array(df[id]!));
    }
    tfs.forEach((tf, d) => {
      // avgdl 0 only when every doc is empty; then no weights exist anyway.
      const K = this.k1 * (1 - this.b + (this.avgdl > 0 ? (this.b * docs[d]!.length) / this.avgdl : 0));
      const weights = new Map<number, number>();
      for (const [id, f] of tf) {
        const w = (this.idfs[id]! * f * (this.k1 + 1)) / (f + K);
        weights.set(id, w);
        const p = fill[id]!++;
        this.postDocs[id]![p] = d;
        this.postWeights[id]![p] = w;
      }
      this.docWeights.push(weights);
    });
  }

  /** IDF of a token; 0 for a token no document holds (it cannot match anything). */
  idf(token: string): number {
    const id = this.vocab.get(token);
    return id === undefined ? 0 : this.idfs[id]!;
  }

  /** Query tokens -> (term id, count) in first-occurrence order; unknown tokens dropped. */
  private queryTerms(query: string[]): [number, number][] {
    const counts = new Map<number, number>();
    for (const tok of query) {
      const id = this.vocab.get(tok);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return [...counts];
  }

  /** BM25 of the query against every document: [N]. */
  scoreAll(query: string[]): Float64Array {
    const out = new Float64Array(this.size);
    for (const [id, count] of this.queryTerms(query)) {
      const docs = this.postDocs[id]!;
      const ws = this.postWeights[id]!;
      for (let p = 0; p < docs.length; p++) out[docs[p]!]! += count * ws[p]!;
    }
    return out;
  }

  /** BM25 of the query against document `doc`. */
  scoreDoc(query: string[], doc: number): number {
    if (!Number.isInteger(doc) || doc < 0 || doc >= this.size) throw new Error(`Bm25Index.scoreDoc: doc ${doc} out of range [0, ${this.size})`);
    const weights = this.docWeights[doc]!;
    let s = 0;
    for (const [id, count] of this.queryTerms(query)) s += count * (weights.get(id) ?? 0);
    return s;
  }
}
