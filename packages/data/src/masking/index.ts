export { wordSpans, maskableSpans, type WordSpan } from './word-spans.js';
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
