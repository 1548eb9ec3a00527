/**
 * Host-side shape arithmetic for the gpujs kernels: broadcasting, strides and dimension
 * collapsing. Kernels receive flat storages, so every multi-dimensional access pattern is
 * reduced here to (dims, per-input strides, base offsets) before any source is generated.
 */

import { broadcastShapes as broadcastShapesOf, sizeOf, stridesOf } from '../../shape.js';

export { sizeOf };

/** Row-major strides of a contiguous tensor of `shape` ([] for a scalar). */
export const contiguousStrides = stridesOf;

/** numpy broadcasting of two shapes; `where` names the caller for the error message. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  return broadcastShapesOf(where, a, b);
}

/**
 * Strides that read a contiguous tensor of `inShape` as if broadcast to `outShape`:
 * right-aligned, 0 along every stretched (size-1 or missing) dim.
 */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[], where: string): number[] {
  if (inShape.length > outShape.length) {
    throw new Error(`${where}: input shape [${inShape.join(', ')}] has more dims than output [${outShape.join(', ')}]`);
  }
  const own = contiguousStrides(inShape);
  const offset = outShape.length - inShape.length;
  return outShape.map((d, i) => {
    const k = i - offset;
    if (k < 0) return 0;
    const di = inShape[k];
    if (di === d) return di === 1 ? 0 : own[k];
    if (di === 1) return 0;
    throw new Error(`${where}: input shape [${inShape.join(', ')}] does not broadcast to [${outShape.join(', ')}]`);
  });
}

export interface Collapsed {
  /** Output dims after dropping size-1 dims and merging contiguous runs (may be []). */
  dims: number[];
  /** strides[input][dim], matching `dims`. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges neighbours i, i+1 wherever every input walks them as one
 * (stride[i] === stride[i+1] * dims[i+1]); a same-shape elementwise op collapses to 1 dim,
 * `[B, L, H] + [H]` to 2. Fewer dims mean fewer index divisions in the generated kernels.
 */
export function collapseDims(dims: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (d === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[i] * d)) {
      outDims[last] *= d;
      strides.forEach((s, j) => {
        outStrides[j][last] = s[i];
      });
      continue;
    }
    outDims.push(d);
    strides.forEach((s, j) => outStrides[j].push(s[i]));
  }
  return { dims: outDims, strides: outStrides };
}

export function normaliseAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`${where}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}
