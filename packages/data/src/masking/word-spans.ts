/** A whole word: token positions [start, end). */
export interface WordSpan {
  start: number;
  end: number;
}

/**
 * Whole-word grouping of one tokenized sequence, for samplers that must hide whole words
 * (encoder MLM here, the enhanced decoder's hidden sets elsewhere).
 *
 * A word starts at every position with wordStarts[i] = 1 and at `from`, and runs to the next
 * start or `to`. By default `from = 1, to = length - 1`, i.e. a `[CLS] ... [SEP]` sequence of
 * `length` real tokens without its specials.
 * @param wordStarts shape [>= to]; 1 = token starts a word.
 * @param length real tokens in the sequence (padding excluded).
 * @returns spans in order, covering [from, to) exactly.
 */
export function wordSpans(
  wordStarts: ArrayLike<number>,
  length: number,
  options: { from?: number; to?: number } = {},
): WordSpan[] {
  const from = options.from ?? 1;
  const to = options.to ?? length - 1;
  if (!Number.isInteger(length) || length < 0 || length > wordStarts.length) {
    throw new Error(`wordSpans: length must be an integer in [0, ${wordStarts.length}], found ${length}`);
  }
  if (from < 0 || to > length) throw new Error(`wordSpans: range [${from}, ${to}) is outside [0, ${length})`);
  const spans: WordSpan[] = [];
  let start = -1;
  for (let i = from; i < to; i++) {
    if (start < 0) start = i;
    else if (wordStarts[i] === 1) {
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
    } else if (wordStarts[p] === 1) {
      spans.push({ start, end: i });
      start = i;
    }
  }
  if (start >= 0) spans.push({ start, end: length });
  return spans;
}
