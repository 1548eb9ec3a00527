export type { AddedToken, Section } from './added-tokens.js';
export { splitOnAddedTokens } from './added-tokens.js';
export { AutoTokenizer, type AnyTokenizer } from './auto.js';
export { PreTrainedTokenizer, cleanUpTokenization, type SpecialTokenNames } from './base-tokenizer.js';
export { DEFAULT_BERT_NORMALIZER, normalizeBertText, type BertNormalizerConfig } from './bert-normalizer.js';
export { preTokenizeBert } from './bert-pre-tokenizer.js';
export { BertTokenizer, parseVocabTxt, type BertTokenizerOptions } from './bert-tokenizer.js';
export { ByteLevelBpe } from './bpe.js';
export { ByteLevelBpeTrainer, trainByteLevelBpe, type BpeModel, type BpeTrainerOptions } from './bpe-trainer.js';
export { BYTE_TO_CHAR, CHAR_TO_BYTE, splitGpt2 } from './byte-level.js';
export type { BatchEncodeOptions, BatchEncoding, DecodeOptions, EncodeOptions, Encoding } from './encoding.js';
export { RobertaTokenizer, parseMergesTxt, type RobertaTokenizerOptions } from './roberta-tokenizer.js';
export type { TokenizerJson } from './tokenizer-json.js';
export { isCjkCodePoint } from './unicode.js';
export {
  WordPieceVocabBuilder,
  buildWordPieceVocab,
  tokenizerFor,
  writeWordPieceVocab,
  type WordPieceVocab,
  type WordPieceVocabOptions,
} from './vocab-builder.js';
export { WordPiece, type WordPieceConfig } from './wordpiece.js';
