import { BYTE_TO_CHAR } from './byte-level.js';
import { detach } from './unicode.js';

/**
 * Byte-level BPE model: a pre-token's UTF-8 bytes start as byte symbols, then the adjacent pair
 * with the lowest merge rank is merged (leftmost on ties) until no pair has a rank — the order HF
 * tokenizers' heap produces. Results are cached per pre-token.
 */
export class ByteLevelBpe {
  /** Pair key (left * V + right) -> rank. */
  private readonly ranks = new Map<number, number>();
  /** Id of the merged token of each rank, `[merges]`. */
  private readonly mergedId: Int32Array;
  /** Id of each byte's symbol, -1 when missing, `[256]`. */
  private readonly byteIds = new Int32Array(256);
  private readonly V: number;
  private readonly cache = new Map<string, Int32Array>();
  private readonly encoder = new TextEncoder();
  private bytes = new Uint8Array(1024);

  constructor(
    tokenToId: ReadonlyMap<string, number>,
    readonly merges: readonly (readonly [string, string])[],
    /** Id for bytes missing from the vocabulary; null drops them, as HF does without unk_token. */
    private readonly unkId: number | null,
    private readonly cacheCapacity = 200_000,
  ) {
    let maxId = 0;
    for (const id of tokenToId.values()) if (id > maxId) maxId = id;
    this.V = maxId + 1;
    this.mergedId = new Int32Array(merges.length);
    merges.forEach(([a, b], r) => {
      const ia = tokenToId.get(a);
      const ib = tokenToId.get(b);
      const im = tokenToId.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new Error(`ByteLevelBpe: merges[${r}] "${a} ${b}" uses ${JSON.stringify(missing)}, which is not in the vocabulary`);
      }
      const key = ia * this.V + ib;
      // A duplicated merge keeps its last rank, as HF's merge map (and tokenizers.js) do.
      this.ranks.set(key, r);
      this.mergedId[r] = im;
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = tokenToId.get(BYTE_TO_CHAR[b]!) ?? -1;
  }

  /** Token ids of one pre-token (raw text, not byte-mapped), `[pieces]`; shared array, do not modify. */
  encodePiece(piece: string): Int32Array {
    let out = this.cache.get(piece);
    if (out === undefined) {
      out = this.encodeUncached(piece);
      if (this.cache.size >= this.cacheCapacity) this.cache.clear();
      this.cache.set(detach(piece), out);
    }
    return out;
  }

  private encodeUncached(piece: string): Int32Array {
    if (this.bytes.length < piece.length * 3) this.bytes = new Uint8Array(piece.length * 3);
    const nBytes = this.encoder.encodeInto(piece, this.bytes).written;
    const sym: number[] = [];
    for (let k = 0; k < nBytes; k++) {
      const id = this.byteIds[this.bytes[k]!]!;
      if (id >= 0) sym.push(id);
      else if (this.unkId !== null) sym.push(this.unkId);
    }
    let n = sym.length;
    if (n < 2) return Int32Array.from(sym);
    // rank[k]: rank of the pair (sym[k], sym[next[k]]), Infinity when not a merge.
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const rank = new Float64Array(n);
    const V = this.V;
    const rankOf = (a: number, b: number): number => this.ranks.get(a * V + b) ?? Infinity;
    for (let k = 0; k < n; k++) {
      next[k] = k + 1 < n ? k + 1 : -1;
      prev[k] = k - 1;
      rank[k] = k + 1 < n ? rankOf(sym[k]!, sym[k + 1]!) : Infinity;
    }
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let k = 0; k !== -1; k = next[k]!) {
        if (rank[k]! < bestRank) {
          bestRank = rank[k]!;
          best = k;
        }
      }
      if (best < 0) break;
      const right = next[best]!;
      sym[best] = this.mergedId[bestRank]!;
      const after = next[right]!;
      next[best] = after;
      if (after !== -1) prev[after] = best;
      n--;
      rank[best] = after !== -1 ? rankOf(sym[best]!, sym[after]!) : Infinity;
      const before = prev[best]!;
      if (before !== -1) rank[before] = rankOf(sym[before]!, sym[best]!);
    }
    const out = new Int32Array(n);
    let p = 0;
    for (let k = 0; k !== -1; k = next[k]!) out[p++] = sym[k]!;
    return out;
  }
}
