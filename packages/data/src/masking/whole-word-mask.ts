import type { RandomSource } from '@retro/random';
import { maskableSpans } from '@retro/common';

/** Label value of positions that carry no MLM target (PyTorch CrossEntropy ignore_index). */
export const IGNORE_INDEX = -100;

/** What happened to a position (same codes as ../shared/fixtures `encoder_mask_kind`). */
export const MaskKind = { none: 0, mask: 1, random: 2, keep: 3 } as const;

export interface WholeWordMaskOptions {
  /** Fraction of maskable tokens to select; RetroMAE uses 0.15-0.30 for the encoder. In (0, 1]. */
  ratio: number;
  maskTokenId: number;
  /** Random replacements are drawn from [0, vocabSize) minus specials and the original id. */
  vocabSize: number;
  /** Never selected, never drawn as a replacement. */
  specialIds: readonly number[];
  /** Share of selected tokens replaced by [MASK]. Default 0.8. */
  maskProb?: number;
  /** Share replaced by a random ordinary token (the rest keep their id). Default 0.1. */
  randomProb?: number;
  /**
   * 'token' (default, as HF DataCollatorForWholeWordMask and Google's BERT): the 80/10/10 draw is
   * made per selected token; 'word': once per selected word, applied to all its tokens.
   */
  decision?: 'token' | 'word';
}

/** Validated options with a fast special-id lookup. */
export interface MaskPlan {
  ratio: number;
  maskTokenId: number;
  vocabSize: number;
  isSpecial: (id: number) => boolean;
  maskProb: number;
  randomProb: number;
  decision: 'token' | 'word';
  ordinaryCount: number;
}

export function makeMaskPlan(o: WholeWordMaskOptions): MaskPlan {
  const who = 'wholeWordMask';
  if (!(o.ratio > 0 && o.ratio <= 1)) throw new Error(`${who}: ratio must be in (0, 1], found ${o.ratio}`);
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) throw new Error(`${who}: vocabSize must be a positive integer, found ${o.vocabSize}`);
  if (!Number.isInteger(o.maskTokenId) || o.maskTokenId < 0 || o.maskTokenId >= o.vocabSize) {
    throw new Error(`${who}: maskTokenId must be in [0, ${o.vocabSize}), found ${o.maskTokenId}`);
  }
  const maskProb = o.maskProb ?? 0.8;
  const randomProb = o.randomProb ?? 0.1;
  if (maskProb < 0 || randomProb < 0 || maskProb + randomProb > 1 + 1e-12) {
    throw new Error(`${who}: need maskProb, randomProb >= 0 and maskProb + randomProb <= 1, found ${maskProb}, ${randomProb}`);
  }
  const specials = new Uint8Array(o.vocabSize);
  let nSpecial = 0;
  for (const id of o.specialIds) {
    if (id >= 0 && id < o.vocabSize && !specials[id]) {
      specials[id] = 1;
      nSpecial++;
    }
  }
  if (!specials[o.maskTokenId]) {
    specials[o.maskTokenId] = 1;
    nSpecial++;
  }
  return {
    ratio: o.ratio,
    maskTokenId: o.maskTokenId,
    vocabSize: o.vocabSize,
    // Ids outside the vocab count as special: never masked, so bad data cannot leak into labels.
    isSpecial: (id) => id < 0 || id >= o.vocabSize || specials[id] === 1,
    maskProb,
    randomProb,
    decision: o.decision ?? 'token',
    ordinaryCount: o.vocabSize - nSpecial,
  };
}

/**
 * Whole-word masking of one sequence, in place on `outIds`/`outLabels`/`outKinds` at `offset`.
 *
 * Selects whole words in random order until round(ratio * maskable tokens) tokens are selected
 * (at least 1 when anything is maskable); a word that would overshoot the budget is passed over,
 * as in HF's `_whole_word_mask`. Selected tokens get their original id as label; their input is
 * [MASK] / a random ordinary token (never the original, never a special) / unchanged with
 * probabilities maskProb / randomProb / rest. Specials and padding are never selected.
 * @param ids original ids, read at [offset, offset + length).
 * @param wordStarts word-start flags aligned with ids.
 * @returns number of selected (labelled) tokens.
 */
export function maskSequenceInto(
  ids: ArrayLike<number>,
  wordStarts: ArrayLike<number>,
  length: number,
  offset: number,
  rng: RandomSource,
  plan: MaskPlan,
  outIds: Int32Array,
  outLabels: Int32Array,
  outKinds: Uint8Array,
): number {
  const spans = maskableSpans(ids, wordStarts, length, plan.isSpecial, offset);
  let maskable = 0;
  for (const s of spans) maskable += s.end - s.start;
  if (maskable === 0) return 0;
  const budget = Math.max(1, Math.round(maskable * plan.ratio));
  const order = new Int32Array(spans.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.randint(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  let selected = 0;
  for (let k = 0; k < order.length && selected < budget; k++) {
    const { start, end } = spans[order[k]];
    if (selected + (end - start) > budget) continue;
    selected += end - start;
    let kind = plan.decision === 'word' ? drawKind(rng, plan) : 0;
    for (let i = start; i < end; i++) {
      const p = offset + i;
      const original = ids[p];
      if (plan.decision === 'token') kind = drawKind(rng, plan);
      outLabels[p] = original;
      if (kind === MaskKind.random) {
        const r = randomOrdinary(rng, plan, original);
        if (r < 0) {
          outKinds[p] = MaskKind.keep;
          outIds[p] = original;
        } else {
          outKinds[p] = MaskKind.random;
          outIds[p] = r;
        }
      } else {
        outKinds[p] = kind;
        outIds[p] = kind === MaskKind.mask ? plan.maskTokenId : original;
      }
    }
  }
  return selected;
}

function drawKind(rng: RandomSource, plan: MaskPlan): number {
  const u = rng.random();
  if (u < plan.maskProb) return MaskKind.mask;
  if (u < plan.maskProb + plan.randomProb) return MaskKind.random;
  return MaskKind.keep;
}

/** Uniform ordinary id other than `original`; -1 when the vocab has none. */
function randomOrdinary(rng: RandomSource, plan: MaskPlan, original: number): number {
  const others = plan.ordinaryCount - (plan.isSpecial(original) ? 0 : 1);
  if (others <= 0) return -1;
  for (;;) {
    const r = rng.randint(plan.vocabSize);
    if (r !== original && !plan.isSpecial(r)) return r;
  }
}

/** Result of {@link wholeWordMask} for one sequence; all arrays have shape [length]. */
export interface MaskedSequence {
  inputIds: Int32Array;
  /** Original id at selected positions, {@link IGNORE_INDEX} elsewhere. */
  labels: Int32Array;
  /** {@link MaskKind} per position. */
  kinds: Uint8Array;
  /** Number of selected positions. */
  selected: number;
}

/**
 * Whole-word masking of one `[CLS] ... [SEP]` sequence (see {@link maskSequenceInto}).
 * Deterministic given the generator's state.
 * @param ids shape [length]; @param wordStarts shape [length].
 */
export function wholeWordMask(
  ids: ArrayLike<number>,
  wordStarts: ArrayLike<number>,
  rng: RandomSource,
  options: WholeWordMaskOptions | MaskPlan,
): MaskedSequence {
  if (ids.length !== wordStarts.length) {
    throw new Error(`wholeWordMask: ids [${ids.length}] and wordStarts [${wordStarts.length}] must have the same length`);
  }
  const plan = 'isSpecial' in options ? options : makeMaskPlan(options);
  const n = ids.length;
  const inputIds = Int32Array.from(ids as ArrayLike<number>);
  const labels = new Int32Array(n).fill(IGNORE_INDEX);
  const kinds = new Uint8Array(n);
  const selected = maskSequenceInto(ids, wordStarts, n, 0, rng, plan, inputIds, labels, kinds);
  return { inputIds, labels, kinds, selected };
}
