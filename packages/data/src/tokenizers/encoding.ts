/** Result of encoding one text (or one text pair). Every array has the same length L. */
export interface Encoding {
  /** Token ids, `[L]` (padding included when padded). */
  ids: number[];
  /** Token strings, `[L]` (`[UNK]` where a word was unknown). */
  tokens: string[];
  /** 1 for real tokens (specials included), 0 for padding, `[L]`. */
  attentionMask: number[];
  /** Segment ids, `[L]`: BERT 0 for the first text (+ its specials), 1 for the pair; RoBERTa all 0. */
  tokenTypeIds: number[];
  /**
   * Index of the pre-tokenizer word each token came from, per sequence (restarts at 0 for the pair,
   * as HF `word_ids()`); null for specials added around the text and padding. `[L]`.
   */
  wordIds: (number | null)[];
  /**
   * 1 where a token starts a word, `[L]`: the first piece of each pre-tokenizer word. For WordPiece
   * these are exactly the non-`##` pieces, so `##` pieces continue the previous token's word, as
   * whole-word masking expects. 0 for added specials and padding.
   */
  wordStarts: Uint8Array;
  /** 1 for specials added by the template ([CLS]/[SEP], <s>/</s>) and padding, `[L]`. */
  specialTokensMask: Uint8Array;
  /** Number of non-padding tokens. */
  length: number;
}

/** Options of `encode`. */
export interface EncodeOptions {
  /** Add [CLS]/[SEP] (or <s>/</s>). Default true. */
  addSpecialTokens?: boolean;
  /** Length limit including specials; used by truncation and `padding: 'max_length'`. */
  maxLength?: number;
  /**
   * Cut the content so the result fits `maxLength` (HF "longest_first" for pairs).
   * Default: true when `maxLength` is given (HF only warns; a silent over-long sequence is the
   * worse failure in a training pipeline).
   */
  truncation?: boolean;
  /** Second text of a pair (BERT: token type 1). */
  textPair?: string;
  /** Pad to `maxLength` with the pad id (right side). Default false. */
  padding?: 'max_length' | false;
}

/** Options of `encodeBatch`. */
export interface BatchEncodeOptions {
  addSpecialTokens?: boolean;
  /** Length limit including specials (required for `padding: 'max_length'`). */
  maxLength?: number;
  /** As in {@link EncodeOptions.truncation}. */
  truncation?: boolean;
  /** 'longest' (default): pad to the longest item; 'max_length': to `maxLength`; false: none. */
  padding?: 'longest' | 'max_length' | false;
  /** Second texts of pairs, one per text. */
  textPairs?: readonly string[];
}

/** A padded batch: per-item encodings plus row-major flat arrays of shape `[B, L]`. */
export interface BatchEncoding {
  encodings: Encoding[];
  /** `[B, L]` row-major. Only filled when every item has the same length (padding on). */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  batchSize: number;
  /** L; -1 when the batch is ragged (padding false and lengths differ). */
  seqLength: number;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Drop special tokens ([CLS], [PAD], <s>, ...). Default false. */
  skipSpecialTokens?: boolean;
  /** Apply HF `clean_up_tokenization` (" ." -> "."). Default: the tokenizer's config. */
  cleanUpTokenizationSpaces?: boolean;
}

/**
 * Growable id buffer that the model-specific encoders append to. Each token records the index of
 * the word it came from, so word ids and word starts cost nothing extra.
 */
export class TokenSink {
  ids = new Int32Array(256);
  words = new Int32Array(256);
  length = 0;
  /** Words emitted so far; the next word gets this index. */
  wordCount = 0;

  reset(): void {
    this.length = 0;
    this.wordCount = 0;
  }

  private grow(min: number): void {
    let cap = this.ids.length * 2;
    while (cap < min) cap *= 2;
    const ids = new Int32Array(cap);
    ids.set(this.ids.subarray(0, this.length));
    const words = new Int32Array(cap);
    words.set(this.words.subarray(0, this.length));
    this.ids = ids;
    this.words = words;
  }

  /** One word made of a single token. */
  pushWord1(id: number): void {
    if (this.length === this.ids.length) this.grow(this.length + 1);
    this.ids[this.length] = id;
    this.words[this.length++] = this.wordCount++;
  }

  /** One word made of `pieces` (at least one). */
  pushWord(pieces: Int32Array): void {
    const n = pieces.length;
    if (this.length + n > this.ids.length) this.grow(this.length + n);
    const w = this.wordCount++;
    for (let k = 0; k < n; k++) {
      this.ids[this.length] = pieces[k]!;
      this.words[this.length++] = w;
    }
  }
}

/**
 * How many content tokens of each sequence to keep so that `n1 + n2 <= budget`, exactly as HF
 * tokenizers' `TruncationStrategy::LongestFirst` (the longer one is cut first; when both must be
 * cut, the first gets floor(budget/2)).
 */
export function longestFirstLengths(n1: number, n2: number, budget: number): [number, number] {
  if (n1 + n2 <= budget) return [n1, n2];
  let a = n1;
  let b = n2;
  const swap = a > b;
  if (swap) [a, b] = [b, a];
  if (a > budget) b = a;
  else b = Math.max(a, budget - a);
  if (a + b > budget) {
    a = Math.floor(budget / 2);
    b = a + (budget % 2);
  }
  return swap ? [b, a] : [a, b];
}
