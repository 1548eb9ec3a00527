export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './broadcast.js';
export * from './shape-ops.js';
export * from './matmul.js';
export * from './nn.js';
export { fromHostArray } from './kernel-call.js';
