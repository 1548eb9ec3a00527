import type { WordTokenized } from './word-tokenizer.js';

/**
 * Packs consecutive sentences of one document into pieces of at most `budget` tokens.
 *
 * Greedy, in order: a sentence joins the current piece when it fits, otherwise the piece is
 * closed and the sentence starts the next one. A sentence longer than `budget` closes the current
 * piece and is cut into `budget`-sized pieces (each its own piece; the remainder starts the
 * next piece and may be joined by following sentences). Word-start flags are copied unchanged: a
 * piece that starts mid-word starts with a 0 flag (`##` pieces never start a word), and since
 * [CLS] precedes it, word spans still never cross a piece boundary (see wordSpans).
 * @param budget max tokens per piece (maxSeqLength minus the specials added later), >= 1.
 * @returns pieces with ids/wordStarts of equal length, each of 1..budget tokens.
 */
export function packSentences(sentences: readonly WordTokenized[], budget: number): WordTokenized[] {
  if (!Number.isInteger(budget) || budget < 1) {
    throw new Error(`packSentences: budget must be a positive integer, found ${budget}`);
  }
  const out: WordTokenized[] = [];
  let cur: WordTokenized = { ids: [], wordStarts: [] };
  const close = () => {
    if (cur.ids.length > 0) out.push(cur);
    cur = { ids: [], wordStarts: [] };
  };
  for (const s of sentences) {
    const n = s.ids.length;
    if (n === 0) continue;
    if (cur.ids.length + n <= budget) {
      append(cur, s, 0, n);
      continue;
    }
    close();
    let from = 0;
    while (n - from > budget) {
      append(cur, s, from, from + budget);
      close();
      from += budget;
    }
    append(cur, s, from, n);
  }
  close();
  return out;
}

function append(dst: WordTokenized, src: WordTokenized, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    dst.ids.push(src.ids[i]);
    dst.wordStarts.push(src.wordStarts[i]);
  }
}
