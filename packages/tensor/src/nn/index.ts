export { Module } from './module.js';
export { Linear, LayerNorm, Embedding, Dropout, type InitOptions } from './layers.js';
