// The one whole-word grouping (shared with the enhanced decoder's M), re-exported for data's users.
export { wordSpans, maskableSpans, type WordSpan } from '@retro/common';
export {
  wholeWordMask,
  maskSequenceInto,
  makeMaskPlan,
  IGNORE_INDEX,
  MaskKind,
  type WholeWordMaskOptions,
  type MaskPlan,
  type MaskedSequence,
} from './whole-word-mask.js';
