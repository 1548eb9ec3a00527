import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { formatShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { reshape } from './shape-ops.js';
import { broadcastTo } from './broadcast.js';
import { scale } from './elementwise.js';

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
  return scale(total, count === 0 ? Number.NaN : 1 / count);
}
