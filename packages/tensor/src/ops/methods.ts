/**
 * Attaches the Tensor's PyTorch-style methods (declared on the Tensor interface in tensor.ts) to
 * its prototype, from the ops side: tensor.ts then imports no op, and the methods stay one line
 * each, delegating to the op of the same name.
 */
import type { DType } from '../engine/kernels.js';
import { formatShape, shapesEqual } from '../shape.js';
import { Tensor, type BackwardOptions } from '../tensor.js';
import { runBackward } from './backward.js';
import { full } from './creation.js';
import { add, div, exp, gelu, log, maskedFill, mul, neg, relu, scale, sqrt, sub, tanh } from './elementwise.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { softmax } from './nn.js';
import { mean, sum } from './reduce.js';
import { cast, narrow, permute, reshape, slice, transpose } from './shape-ops.js';

const methods: ThisType<Tensor> & Partial<Tensor> = {
  backward(this: Tensor, gradient?: Tensor, options?: BackwardOptions): void {
    if (!this.requiresGrad) {
      throw new Error('backward: this tensor does not require grad (no input of the graph had requiresGrad = true)');
    }
    let seed = gradient;
    if (!seed) {
      if (this.size !== 1) {
        throw new Error(`backward: an implicit gradient needs a one-element tensor, got shape ${formatShape(this.shape)}`);
      }
      seed = full(this.shape, 1);
    } else if (!shapesEqual(seed.shape, this.shape)) {
      throw new Error(`backward: gradient shape ${formatShape(seed.shape)} differs from tensor shape ${formatShape(this.shape)}`);
    }
    runBackward(this, seed, options);
  },
  add(this: Tensor, other: Tensor | number) { return add(this, other); },
  sub(this: Tensor, other: Tensor | number) { return sub(this, other); },
  mul(this: Tensor, other: Tensor | number) { return mul(this, other); },
  div(this: Tensor, other: Tensor | number) { return div(this, other); },
  neg(this: Tensor) { return neg(this); },
  exp(this: Tensor) { return exp(this); },
  log(this: Tensor) { return log(this); },
  sqrt(this: Tensor) { return sqrt(this); },
  tanh(this: Tensor) { return tanh(this); },
  gelu(this: Tensor) { return gelu(this); },
  relu(this: Tensor) { return relu(this); },
  scale(this: Tensor, factor: number) { return scale(this, factor); },
  matmul(this: Tensor, other: Tensor, options?: MatmulOptions) { return matmul(this, other, options); },
  reshape(this: Tensor, shape: readonly number[]) { return reshape(this, shape); },
  view(this: Tensor, shape: readonly number[]) { return reshape(this, shape); },
  permute(this: Tensor, perm: readonly number[]) { return permute(this, perm); },
  transpose(this: Tensor, dim0: number, dim1: number) { return transpose(this, dim0, dim1); },
  slice(this: Tensor, begin: readonly number[], size: readonly number[]) { return slice(this, begin, size); },
  narrow(this: Tensor, dim: number, start: number, length: number) { return narrow(this, dim, start, length); },
  sum(this: Tensor, axes?: number | readonly number[], keepDims = false) { return sum(this, axes, keepDims); },
  mean(this: Tensor, axes?: number | readonly number[], keepDims = false) { return mean(this, axes, keepDims); },
  softmax(this: Tensor, mask?: Tensor) { return softmax(this, mask); },
  cast(this: Tensor, dtype: DType) { return cast(this, dtype as 'float32' | 'int32'); },
  maskedFill(this: Tensor, mask: Tensor, value: number) { return maskedFill(this, mask, value); },
};

// Non-enumerable like class methods, so spreading or iterating a tensor's keys does not list them.
for (const [name, method] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
}
