/**
 * The part of a tokenizer the data pipeline relies on. `@retro/data`'s BertTokenizer satisfies
 * it; tests use tiny hand-written ones. Ids are plain numbers (no tensors).
 */
export interface TokenizerLike {
  /** Word pieces of `text`, without special tokens (`[CLS]`/`[SEP]` are added by the chunker). */
  tokenize(text: string): string[];
  /** Ids of `tokens` (unknown pieces map to the unknown-token id). Same length as `tokens`. */
  convertTokensToIds(tokens: string[]): number[];
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly maskTokenId: number;
  readonly unkTokenId?: number;
  /** Number of ids; every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /**
   * Ids that are never masked and never drawn as random replacements. Default: cls, sep, pad,
   * mask and unk.
   */
  readonly specialIds?: readonly number[];
  /** Does `token` continue the previous piece's word? Default: starts with `##` (WordPiece). */
  isContinuation?(token: string): boolean;
  /**
   * True for byte-level BPE (RoBERTa, GPT-2): every character of a token stands for one UTF-8 byte
   * of the text, so token offsets are known and word starts can be read off the whole-text
   * tokenization.
   */
  readonly byteLevel?: boolean;
}

/** Special ids of a tokenizer, with the default rule of {@link TokenizerLike.specialIds}. */
export function specialIdsOf(t: TokenizerLike): number[] {
  if (t.specialIds) return [...t.specialIds];
  const ids = [t.clsTokenId, t.sepTokenId, t.padTokenId, t.maskTokenId];
  if (t.unkTokenId !== undefined) ids.push(t.unkTokenId);
  return [...new Set(ids)];
}

/** Throws when a tokenizer misses a field or has ids outside [0, vocabSize). */
export function checkTokenizer(t: TokenizerLike, who: string): void {
  if (typeof t?.tokenize !== 'function' || typeof t.convertTokensToIds !== 'function') {
    throw new Error(`${who}: tokenizer must have tokenize(text) and convertTokensToIds(tokens)`);
  }
  if (!Number.isInteger(t.vocabSize) || t.vocabSize < 1) {
    throw new Error(`${who}: tokenizer.vocabSize must be a positive integer, found ${t.vocabSize}`);
  }
  for (const f of ['clsTokenId', 'sepTokenId', 'padTokenId', 'maskTokenId'] as const) {
    const v = t[f];
    if (!Number.isInteger(v) || v < 0 || v >= t.vocabSize) {
      throw new Error(`${who}: tokenizer.${f} must be an id in [0, ${t.vocabSize}), found ${v}`);
    }
  }
}
