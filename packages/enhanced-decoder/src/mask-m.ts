import { wordSpans, type WordSpan } from '@retro/common';
import { Generator } from '@retro/tensor';

/**
 * The decoder's attention mask M of RetroMAE (1 = query row i may attend key column j).
 *
 * Row i of a real sequence (length n) hides:
 *  - itself (a row must reconstruct its token without seeing it),
 *  - one whole-word hidden set drawn uniformly from `maskSetSize` pre-sampled sets, each covering
 *    about `ratio` of the tokens (the official RetroMAECollator), and
 *  - all padding (columns j >= n); padding rows (i >= n) are all 0.
 * Position 0 (the sentence embedding) and position n-1 ([SEP]) are never in a hidden set, so every
 * row i > 0 sees the sentence embedding.
 */
export interface DecoderMaskOptions {
  /** Real lengths n_b including [CLS] and [SEP], [B]. */
  lengths: ArrayLike<number>;
  /** Padded length L. */
  seqLen: number;
  /** Fraction of each sequence's tokens hidden per row (0.5 in the paper; 0.5-0.7 typical). */
  ratio: number;
  generator: Generator;
  /**
   * Per-token word-start flags [B, L] (1 = this token begins a word, 0 = it continues one; see
   * @retro/common wordSpans, the grouping the encoder's masking uses too). Without it every token
   * is its own word.
   */
  wordStarts?: ArrayLike<number>;
  /** How many hidden sets to sample per sequence; rows choose among them (official: min(n, 128)). */
  maskSetSize?: number;
}

/**
 * One whole-word hidden set: words in random order are added while they fit under
 * max(1, round(n * ratio)) tokens (HF DataCollatorForWholeWordMask's rule).
 */
export function sampleWholeWordSet(
  spans: readonly WordSpan[],
  length: number,
  ratio: number,
  generator: Generator,
): number[] {
  const budget = Math.max(1, Math.round(length * ratio));
  const order = spans.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = generator.randint(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const hidden: number[] = [];
  for (const index of order) {
    if (hidden.length >= budget) break;
    const { start, end } = spans[index];
    if (hidden.length + (end - start) > budget) continue;
    for (let position = start; position < end; position++) hidden.push(position);
  }
  return hidden;
}

/** Samples M for a batch. Returns a Uint8Array [B, L, L] (1 = visible). */
export function sampleDecoderMask(options: DecoderMaskOptions): Uint8Array {
  const { lengths, seqLen, ratio, generator, wordStarts } = options;
  if (!(ratio > 0 && ratio < 1)) throw new Error(`sampleDecoderMask: ratio must be in (0, 1), got ${ratio}`);
  const batch = lengths.length;
  if (wordStarts && wordStarts.length !== batch * seqLen) {
    throw new Error(`sampleDecoderMask: wordStarts has ${wordStarts.length} entries, expected [B, L] = ${batch * seqLen}`);
  }
  const mask = new Uint8Array(batch * seqLen * seqLen);
  for (let b = 0; b < batch; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 0 || n > seqLen) {
      throw new Error(`sampleDecoderMask: lengths[${b}] = ${n} is not an integer in [0, ${seqLen}]`);
    }
    if (n === 0) continue;
    // Words over positions 1..n-2: [CLS] and [SEP] are never hidden.
    const spans = wordSpans(wordStarts, n, { offset: b * seqLen });
    const setCount = Math.max(1, Math.min(n, options.maskSetSize ?? 128));
    const sets = Array.from({ length: setCount }, () => (spans.length > 0 ? sampleWholeWordSet(spans, n, ratio, generator) : []));
    const base = b * seqLen * seqLen;
    for (let i = 0; i < n; i++) {
      const row = base + i * seqLen;
      mask.fill(1, row, row + n);
      for (const position of sets[generator.randint(setCount)]) mask[row + position] = 0;
      mask[row + i] = 0;
    }
  }
  return mask;
}
