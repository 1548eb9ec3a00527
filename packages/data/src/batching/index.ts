export { collateChunks, type ChunkView, type CollatedBatch, type CollateOptions } from './collate.js';
export { maskBatch, type EncoderMasking } from './mask-batch.js';
export { BatchLoader, type Batch, type LoaderOptions, type LoaderState, type ShardSource } from './loader.js';
