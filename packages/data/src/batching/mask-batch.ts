import type { RandomSource } from '@retro/random';
import {
  IGNORE_INDEX,
  makeMaskPlan,
  maskSequenceInto,
  type MaskPlan,
  type WholeWordMaskOptions,
} from '../masking/whole-word-mask.js';
import type { CollatedBatch } from './collate.js';

/** Encoder MLM inputs for a batch; all [B, L]. */
export interface EncoderMasking {
  /** inputIds with the selected positions replaced ([MASK] / random / kept). */
  encoderInputIds: Int32Array;
  /** Original id at selected positions, -100 elsewhere (specials, padding, unselected). */
  encoderLabels: Int32Array;
  /** 0 none, 1 [MASK], 2 random, 3 kept (as ../shared/fixtures `encoder_mask_kind`). */
  encoderMaskKinds: Uint8Array;
}

/**
 * Whole-word masks every row of a collated batch (rows in order, one generator).
 * Deterministic given the generator's state.
 */
export function maskBatch(batch: CollatedBatch, rng: RandomSource, options: WholeWordMaskOptions | MaskPlan): EncoderMasking {
  const plan = 'isSpecial' in options ? options : makeMaskPlan(options);
  const [B, L] = batch.shape;
  const encoderInputIds = Int32Array.from(batch.inputIds);
  const encoderLabels = new Int32Array(B * L).fill(IGNORE_INDEX);
  const encoderMaskKinds = new Uint8Array(B * L);
  for (let b = 0; b < B; b++) {
    maskSequenceInto(batch.inputIds, batch.wordStarts, batch.lengths[b], b * L, rng, plan, encoderInputIds, encoderLabels, encoderMaskKinds);
  }
  return { encoderInputIds, encoderLabels, encoderMaskKinds };
}
