import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { reshape } from './shape-ops.js';
import { broadcastTo } from './broadcast.js';

function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const normalized = [...new Set(list.map((axis) => normalizeAxis(op, axis, rank)))];
  return normalized.sort((p, q) => p - q);
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((dim, axis) => (axes.includes(axis) ? 1 : dim));
}

/** Sum over `axes` (all by default). [..] -> reduced shape (size-1 dims kept when keepDims). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  if (x.dtype !== 'float32') throw new Error(`sum: expected float32, got ${x.dtype} ${formatShape(x.shape)}`);
  const reduced = normalizeAxes('sum', axes, x.rank);
  const out = callKernel1(KERNELS.Sum, [x], { axes: reduced, keepDims });
  return attach(out, 'sum', [x], (dy) => [broadcastTo(reshape(dy, keptShape(x.shape, reduced)), x.shape)]);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const reduced = normalizeAxes('mean', axes, x.rank);
  const count = reduced.reduce((n, axis) => n * x.shape[axis], 1);
  const total = sum(x, reduced, keepDims);
  return callScale(total, count === 0 ? Number.NaN : 1 / count);
}

function callScale(x: Tensor, factor: number): Tensor {
  const out = callKernel1(KERNELS.Affine, [x], { scale: factor, bias: 0 });
  return attach(out, 'scale', [x], (dy) => [callScale(dy, factor)]);
}

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
