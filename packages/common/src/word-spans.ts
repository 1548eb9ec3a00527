/**
 * Whole words of a tokenized sequence, from its word-start flags: the one grouping both the
 * encoder's whole-word masking (@retro/data) and the decoder's hidden sets of M
 * (@retro/enhanced-decoder) use, so the two always agree on what a word is.
 *
 * A flag is 1 where a token starts a word and 0 where it continues the word before it (what the
 * tokenizers write and shards store, one byte a token). Any other value is refused: reading it as
 * a start (`!== 0`) or as a continuation (`=== 1`) would each be a guess, and the two samplers
 * once guessed differently.
 */

/** A whole word: token positions [start, end). */
export interface WordSpan {
  start: number;
  end: number;
}

/** True where position `p` starts a word; throws on a flag that is neither 0 nor 1. */
function startsWord(wordStarts: ArrayLike<number>, p: number, caller: string): boolean {
  const flag = wordStarts[p];
  if (flag === 1) return true;
  if (flag === 0) return false;
  throw new Error(`${caller}: wordStarts[${p}] = ${String(flag)}; a word-start flag is 1 (starts a word) or 0 (continues one)`);
}

export interface WordSpanOptions {
  /** First position grouped (default 1: after [CLS]). */
  from?: number;
  /** End of the grouped range, exclusive (default length - 1: before [SEP]). */
  to?: number;
  /** Where the sequence starts in `wordStarts` (a row of a [B, L] batch: b * L). Default 0. */
  offset?: number;
}

/**
 * Whole-word grouping of one sequence. A word starts at every position whose flag is 1 and at
 * `from`, and runs to the next start or `to`. By default `from = 1, to = length - 1`, i.e. a
 * `[CLS] ... [SEP]` sequence of `length` real tokens without its specials.
 * @param wordStarts flags, shape [>= offset + length]; undefined: every token is a word of its own.
 * @param length real tokens in the sequence (padding excluded).
 * @returns spans in order (positions relative to the sequence), covering [from, to) exactly.
 */
export function wordSpans(wordStarts: ArrayLike<number> | undefined, length: number, options: WordSpanOptions = {}): WordSpan[] {
  const from = options.from ?? 1;
  const to = options.to ?? length - 1;
  const offset = options.offset ?? 0;
  const available = wordStarts ? wordStarts.length - offset : Infinity;
  if (!Number.isInteger(length) || length < 0 || length > available) {
    throw new Error(`wordSpans: length must be an integer in [0, ${available}] (wordStarts [${wordStarts?.length}] from offset ${offset}), found ${length}`);
  }
  if (from < 0 || to > length) throw new Error(`wordSpans: range [${from}, ${to}) is outside [0, ${length})`);
  const spans: WordSpan[] = [];
  let start = -1;
  for (let i = from; i < to; i++) {
    if (start < 0) start = i;
    else if (!wordStarts || startsWord(wordStarts, offset + i, 'wordSpans')) {
      spans.push({ start, end: i });
      start = i;
    }
  }
  if (start >= 0) spans.push({ start, end: to });
  return spans;
}

/**
 * Candidate words for masking: like {@link wordSpans} over [0, length), but any token whose id is
 * special is excluded and also ends the word before it, so specials are never part of a word.
 * @param ids, wordStarts shape [>= offset + length]; spans are relative to `offset`.
 */
export function maskableSpans(
  ids: ArrayLike<number>,
  wordStarts: ArrayLike<number>,
  length: number,
  isSpecial: (id: number) => boolean,
  offset = 0,
): WordSpan[] {
  const spans: WordSpan[] = [];
  let start = -1;
  for (let i = 0; i < length; i++) {
    const p = offset + i;
    if (isSpecial(ids[p])) {
      if (start >= 0) spans.push({ start, end: i });
      start = -1;
    } else if (start < 0) {
      start = i;
    } else if (startsWord(wordStarts, p, 'maskableSpans')) {
      spans.push({ start, end: i });
      start = i;
    }
  }
  if (start >= 0) spans.push({ start, end: length });
  return spans;
}
