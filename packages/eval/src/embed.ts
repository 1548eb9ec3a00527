import type { EmbedFn, Embedder } from './types.js';
import type { EmbeddingMatrix } from './search/cosine.js';

/** Accepts `{ name, embed }` or a bare function (named 'embedder'). */
export function asEmbedder(e: Embedder | EmbedFn, name = 'embedder'): Embedder {
  if (typeof e === 'function') return { name, embed: e };
  if (!e || typeof e.embed !== 'function' || typeof e.name !== 'string') {
    throw new Error(`asEmbedder: expected { name: string, embed(texts) } or a function, found ${e === null ? 'null' : typeof e}`);
  }
  return e;
}

export interface EncodeProgress {
  label: string;
  done: number;
  total: number;
}

/**
 * Encodes texts through an EmbedFn in batches of `batchSize`, once per distinct text: results are
 * cached (unit-normalised, float32) so a text shared by several tasks or roles is embedded once.
 * Every returned vector is checked: count per batch, one dimension for all, finite values.
 */
export class EmbeddingCache {
  private readonly vectors = new Map<string, Float32Array>();
  dim = 0;

  constructor(
    private readonly fn: EmbedFn,
    private readonly label: string,
    private readonly batchSize = 32,
    private readonly onProgress?: (p: EncodeProgress) => void,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`EmbeddingCache(${label}): batchSize must be a positive integer, found ${batchSize}`);
  }

  /**
   * Unit rows for `texts` [T] -> matrix [T, D], plus how many distinct texts had to be embedded now.
   * Texts are embedded in first-seen order, so batches are deterministic.
   */
  async encode(texts: string[]): Promise<{ matrix: EmbeddingMatrix; encoded: number }> {
    const todo: string[] = [];
    const queued = new Set<string>();
    for (const t of texts) {
      if (!this.vectors.has(t) && !queued.has(t)) {
        queued.add(t);
        todo.push(t);
      }
    }
    for (let b = 0; b < todo.length; b += this.batchSize) {
      const batch = todo.slice(b, b + this.batchSize);
      const out = await this.fn(batch);
      this.check(out, batch.length, b / this.batchSize);
      batch.forEach((t, i) => this.vectors.set(t, unit(out[i]!)));
      this.onProgress?.({ label: this.label, done: Math.min(b + this.batchSize, todo.length), total: todo.length });
    }
    if (texts.length > 0 && this.dim === 0) this.dim = this.vectors.get(texts[0]!)!.length;
    const D = this.dim;
    const data = new Float32Array(texts.length * D);
    texts.forEach((t, i) => data.set(this.vectors.get(t)!, i * D));
    return { matrix: { data, rows: texts.length, dim: D }, encoded: todo.length };
  }

  private check(out: unknown, expected: number, batchNo: number): asserts out is ArrayLike<number>[] {
    const where = `embed(${this.label}) batch ${batchNo}`;
    if (!Array.isArray(out)) throw new Error(`${where}: expected an array of ${expected} vectors, found ${out === null ? 'null' : typeof out}`);
    if (out.length !== expected) throw new Error(`${where}: returned ${out.length} vectors for ${expected} texts`);
    for (let i = 0; i < out.length; i++) {
      const v = out[i] as ArrayLike<number> | undefined;
      if (!v || typeof v.length !== 'number') throw new Error(`${where} item ${i}: expected a Float32Array, found ${typeof v}`);
      if (this.dim === 0) {
        if (v.length === 0) throw new Error(`${where} item ${i}: empty vector`);
        this.dim = v.length;
      } else if (v.length !== this.dim) {
        throw new Error(`${where} item ${i}: vector has ${v.length} dims, expected ${this.dim} (the dimension of earlier vectors)`);
      }
      for (let t = 0; t < v.length; t++) {
        if (!Number.isFinite(v[t]!)) throw new Error(`${where} item ${i}: value [${t}] is ${v[t]}; embeddings must be finite`);
      }
    }
  }
}

/** Float32 unit copy of v (float64 norm); a zero vector stays zero. */
function unit(v: ArrayLike<number>): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}
