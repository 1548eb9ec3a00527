import { KERNELS } from '../engine/kernels.js';
import { formatShape, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { reshape } from './shape-ops.js';

/**
 * Sums a broadcast gradient back to `shape` (the reverse of broadcasting): leading extra axes
 * and axes where `shape` has 1 are summed. Not differentiable (used inside backward only).
 */
export function sumToShape(gradient: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(gradient.shape, shape)) return gradient;
  const offset = gradient.rank - shape.length;
  const axes: number[] = [];
  for (let axis = 0; axis < gradient.rank; axis++) {
    const target = axis < offset ? 1 : shape[axis - offset];
    if (axis < offset || (target === 1 && gradient.shape[axis] !== 1)) axes.push(axis);
  }
  const summed = axes.length > 0 ? callKernel1(KERNELS.Sum, [gradient], { axes, keepDims: false }) : gradient;
  if (sizeOf(summed.shape) !== sizeOf(shape)) {
    throw new Error(`sumToShape: cannot reduce ${formatShape(gradient.shape)} to ${formatShape(shape)}`);
  }
  return reshape(summed, shape);
}
