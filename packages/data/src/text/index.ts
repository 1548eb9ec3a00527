export { cleanText, type CleanOptions } from './clean.js';
export { splitSentences, DEFAULT_TERMINATORS, DEFAULT_CLOSERS, type SplitOptions } from './sentences.js';
export { JiebaSegmenter, type WordSegmenter } from './segment.js';
export { WordTokenizer, type WordTokenized, type WordTokenizerOptions } from './word-tokenizer.js';
export { specialIdsOf, checkTokenizer, type TokenizerLike } from './tokenizer-like.js';
export { packSentences } from './chunk.js';
export { DocumentChunker, type Chunk, type ChunkerOptions } from './pipeline.js';
export { isBertSplitCodePoint } from './boundaries.js';
