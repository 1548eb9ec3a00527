export { Module } from './module.js';
export { Linear, LayerNorm, Embedding, Dropout, type InitOptions } from './layers.js';
export { multiHeadAttention, additiveMask, MASK_MIN, type AttentionOptions } from './attention.js';
