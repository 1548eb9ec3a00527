export * from './tokenizers/index.js';
export * from './corpus/index.js';
export * from './text/index.js';
export * from './masking/index.js';
export * from './shards/index.js';
export * from './batching/index.js';
export * from './prepare.js';
export { Generator, deriveSeed, permutation, type GeneratorState, type RandomSource } from '@retro/random';
