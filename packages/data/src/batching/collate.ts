/** A chunk as stored in shards: `[CLS] ... [SEP]` ids and word-start flags, shape [n] each. */
export interface ChunkView {
  ids: ArrayLike<number>;
  wordStarts: ArrayLike<number>;
}

/** Padded batch; every array is row-major [B, L] except `lengths` [B]. */
export interface CollatedBatch {
  shape: [number, number];
  /** Original ids, padded with padTokenId. */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array;
  /** 1 where a token starts a word (specials included, padding 0). */
  wordStarts: Uint8Array;
  /** Real length of each row, specials included. */
  lengths: Int32Array;
}

export interface CollateOptions {
  padTokenId: number;
  /** 'longest' (default): L = longest chunk; a number: fixed L (must be >= every chunk). */
  padTo?: 'longest' | number;
  /** Round L up to a multiple of this (e.g. 8 for tensor cores). Default 1. */
  padToMultipleOf?: number;
}

/**
 * Pads chunks into a [B, L] batch.
 * @param chunks B chunks of lengths n_b.
 */
export function collateChunks(chunks: readonly ChunkView[], options: CollateOptions): CollatedBatch {
  const B = chunks.length;
  if (B === 0) throw new Error('collateChunks: need at least one chunk');
  let longest = 0;
  for (const c of chunks) {
    if (c.ids.length !== c.wordStarts.length) {
      throw new Error(`collateChunks: a chunk has ids [${c.ids.length}] but wordStarts [${c.wordStarts.length}]`);
    }
    longest = Math.max(longest, c.ids.length);
  }
  let L = options.padTo === undefined || options.padTo === 'longest' ? longest : options.padTo;
  if (!Number.isInteger(L) || L < longest) {
    throw new Error(`collateChunks: padTo ${String(options.padTo)} is shorter than the longest chunk (${longest})`);
  }
  const mult = options.padToMultipleOf ?? 1;
  if (!Number.isInteger(mult) || mult < 1) throw new Error(`collateChunks: padToMultipleOf must be a positive integer, found ${mult}`);
  L = Math.ceil(L / mult) * mult;
  const inputIds = new Int32Array(B * L).fill(options.padTokenId);
  const attentionMask = new Uint8Array(B * L);
  const wordStarts = new Uint8Array(B * L);
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const c = chunks[b];
    const n = c.ids.length;
    const row = b * L;
    lengths[b] = n;
    for (let i = 0; i < n; i++) {
      inputIds[row + i] = c.ids[i];
      wordStarts[row + i] = c.wordStarts[i];
    }
    attentionMask.fill(1, row, row + n);
  }
  return { shape: [B, L], inputIds, attentionMask, wordStarts, lengths };
}
