export { Generator, permutation, type GeneratorState, type RandomSource } from './generator.js';
export { deriveSeed } from './derive-seed.js';
