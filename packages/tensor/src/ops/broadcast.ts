import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { broadcastShapes, formatShape, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { zeros } from './creation.js';
import { sumToShape } from './sum-to-shape.js';

/** x expanded to `shape` (materialised). [..] -> shape. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const result = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(result, shape)) {
    throw new Error(`broadcastTo: ${formatShape(x.shape)} cannot expand to ${formatShape(shape)}`);
  }
  const out = callKernel1(KERNELS.Add, [zeros(shape), x]);
  return attach(out, 'broadcastTo', [x], (dy) => [sumToShape(dy, x.shape)]);
}
