/**
 * Partial top-k selection over one score row, with a bounded min-heap: O(N log k) and usually O(N),
 * since most scores lose to the heap's worst entry on the first comparison. No full sort per query.
 */

export interface TopKOptions {
  /** Index to leave out (BEIR ignore_identical_ids: the query's own document); -1 or absent for none. */
  exclude?: number;
  /**
   * Orders EQUAL scores: a lower key ranks first, then a lower index. Pass the qrel gain to get
   * cmteb-lite's pessimistic rule (a relevant item after the non-relevant items it ties with).
   */
  tieKey?: (index: number) => number;
}

export interface TopKResult {
  /** Row indices, best first, length min(k, N - excluded). */
  indices: Int32Array;
  /** Their scores, same order. */
  scores: Float64Array;
}

/**
 * The k best entries of `scores` [N] (from offset `start`, `length` entries; indices are relative
 * to `start`). Scores must not be NaN.
 */
export function topK(scores: ArrayLike<number>, k: number, options: TopKOptions = {}, start = 0, length = scores.length - start): TopKResult {
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: k must be a non-negative integer, found ${k}`);
  const exclude = options.exclude ?? -1;
  const tieKey = options.tieKey;
  const cap = Math.min(k, length - (exclude >= 0 && exclude < length ? 1 : 0));
  const heapIdx = new Int32Array(Math.max(cap, 0));
  const heapScore = new Float64Array(Math.max(cap, 0));
  let size = 0;

  // worse(a, b): entry a ranks after entry b.
  const worse = (sa: number, ia: number, sb: number, ib: number): boolean => {
    if (sa !== sb) return sa < sb;
    if (tieKey) {
      const ka = tieKey(ia);
      const kb = tieKey(ib);
      if (ka !== kb) return ka > kb;
    }
    return ia > ib;
  };
  // Min-heap on rank quality: the root is the worst kept entry.
  const siftDown = (pos: number): void => {
    const s = heapScore[pos]!;
    const i = heapIdx[pos]!;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= size) break;
      const r = l + 1;
      let c = l;
      if (r < size && worse(heapScore[r]!, heapIdx[r]!, heapScore[l]!, heapIdx[l]!)) c = r;
      if (!worse(heapScore[c]!, heapIdx[c]!, s, i)) break;
      heapScore[pos] = heapScore[c]!;
      heapIdx[pos] = heapIdx[c]!;
      pos = c;
    }
    heapScore[pos] = s;
    heapIdx[pos] = i;
  };
  const siftUp = (pos: number): void => {
    const s = heapScore[pos]!;
    const i = heapIdx[pos]!;
    while (pos > 0) {
      const p = (pos - 1) >> 1;
      if (!worse(s, i, heapScore[p]!, heapIdx[p]!)) break;
      heapScore[pos] = heapScore[p]!;
      heapIdx[pos] = heapIdx[p]!;
      pos = p;
    }
    heapScore[pos] = s;
    heapIdx[pos] = i;
  };

  if (cap > 0) {
    for (let j = 0; j < length; j++) {
      if (j === exclude) continue;
      const s = scores[start + j]!;
      if (size < cap) {
        heapScore[size] = s;
        heapIdx[size] = j;
        size++;
        siftUp(size - 1);
      } else if (s > heapScore[0]! || (s === heapScore[0]! && worse(heapScore[0]!, heapIdx[0]!, s, j))) {
        heapScore[0] = s;
        heapIdx[0] = j;
        siftDown(0);
      }
    }
  }
  // Pop worst-first into the tail: the output ends up best-first.
  const indices = new Int32Array(size);
  const out = new Float64Array(size);
  for (let t = size - 1; t >= 0; t--) {
    indices[t] = heapIdx[0]!;
    out[t] = heapScore[0]!;
    size--;
    if (size > 0) {
      heapScore[0] = heapScore[size]!;
      heapIdx[0] = heapIdx[size]!;
      siftDown(0);
    }
  }
  return { indices, scores: out };
}
