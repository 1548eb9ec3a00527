import { type KernelGroup, type KernelFunc, type TensorInfo } from '../../engine/kernels.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../shape.js';
import { CPU, floats, output, values, type HostArray } from './storage.js';
import { takeFloats } from './buffer-pool.js';
import { applyDropoutMask, dropoutScale, dropoutThreshold } from '../../engine/dropout-mask.js';
import { simdAdd, simdAddRow, simdDropout, simdKernelsActive } from './simd/index.js';

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div';

/**
 * out[i] = x[xi] op y[yi] over `count` elements with the given start offsets and steps.
 * One loop per op keeps each loop monomorphic (a per-element callback costs ~10x).
 */
function binaryRun(op: BinaryOp, x: HostArray, xi: number, xs: number, y: HostArray, yi: number, ys: number, out: Float32Array, oi: number, count: number): void {
  // Both contiguous (same shapes, bias rows): no stride multiplies in the loop.
  if (xs === 1 && ys === 1) {
    denseRun(op, x, xi, y, yi, out, oi, count);
    return;
  }
  switch (op) {
    case 'Add':
      for (let j = 0; j < count; j++) out[oi + j] = x[xi + j * xs] + y[yi + j * ys];
      return;
    case 'Sub':
      for (let j = 0; j < count; j++) out[oi + j] = x[xi + j * xs] - y[yi + j * ys];
      return;
    case 'Mul':
      for (let j = 0; j < count; j++) out[oi + j] = x[xi + j * xs] * y[yi + j * ys];
      return;
    case 'Div':
      for (let j = 0; j < count; j++) out[oi + j] = x[xi + j * xs] / y[yi + j * ys];
      return;
  }
}

function denseRun(op: BinaryOp, x: HostArray, xi: number, y: HostArray, yi: number, out: Float32Array, oi: number, count: number): void {
  const d = xi - oi;
  const e = yi - oi;
  const end = oi + count;
  switch (op) {
    case 'Add':
      for (let i = oi; i < end; i++) out[i] = x[i + d] + y[i + e];
      return;
    case 'Sub':
      for (let i = oi; i < end; i++) out[i] = x[i + d] - y[i + e];
      return;
    case 'Mul':
      for (let i = oi; i < end; i++) out[i] = x[i + d] * y[i + e];
      return;
    case 'Div':
      for (let i = oi; i < end; i++) out[i] = x[i + d] / y[i + e];
      return;
  }
}

/**
 * x op y over the broadcast shape. Axes are merged where both inputs step alike, so the
 * common training shapes (equal shapes, bias rows [H] over [N, H], per-row scalars [N, 1])
 * become one or two long contiguous runs.
 */
function broadcastBinary(op: BinaryOp, a: TensorInfo, b: TensorInfo): TensorInfo {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const x = values(a);
  const y = values(b);
  const out = takeFloats(sizeOf(shape));
  if (out.length === 0) return output(out, shape);
  const [dims, stridesA, stridesB] = mergeAxes(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
  const rank = dims.length;
  const inner = dims[rank - 1];
  const innerA = stridesA[rank - 1];
  const innerB = stridesB[rank - 1];
  const counter = new Array<number>(rank).fill(0);
  let offsetA = 0;
  let offsetB = 0;
  for (let flat = 0; flat < out.length; flat += inner) {
    binaryRun(op, x, offsetA, innerA, y, offsetB, innerB, out, flat, inner);
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      offsetA += stridesA[axis];
      offsetB += stridesB[axis];
      if (counter[axis] < dims[axis]) break;
      offsetA -= stridesA[axis] * dims[axis];
      offsetB -= stridesB[axis] * dims[axis];
      counter[axis] = 0;
    }
  }
  return output(out, shape);
}

/**
 * The Add shapes the SIMD module takes (float32 both sides): equal shapes (residuals, gradient
 * sums) and a row broadcast onto every row, [..., C] + [C] either way round (bias rows).
 * Null for anything else, which goes through broadcastBinary.
 */
function simdAddPath(a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const x = values(a);
  const y = values(b);
  if (!(x instanceof Float32Array) || !(y instanceof Float32Array)) return null;
  const shape = broadcastShapes('Add', a.shape, b.shape);
  if (x.length === y.length && x.length === sizeOf(shape)) return output(simdAdd(x, y), shape);
  const cols = shape[shape.length - 1];
  const isRow = (info: TensorInfo): boolean => sizeOf(info.shape) === cols && info.shape[info.shape.length - 1] === cols;
  if (shape.length === 0 || cols === 0) return null;
  if (x.length === sizeOf(shape) && isRow(b)) return output(simdAddRow(x, y), shape);
  if (y.length === sizeOf(shape) && isRow(a)) return output(simdAddRow(y, x), shape);
  return null;
}

/** Merges adjacent axes whose strides chain in every input; drops size-1 axes. */
export function mergeAxes(shape: readonly number[], ...strideSets: number[][]): [number[], ...number[][]] {
  const dims: number[] = [];
  const merged: number[][] = strideSets.map(() => []);
  for (let axis = 0; axis < shape.length; axis++) {
    const size = shape[axis];
    if (size === 1) continue;
    const last = dims.length - 1;
    const chains = last >= 0 && strideSets.every((strides, s) => merged[s][last] === strides[axis] * size);
    if (chains) {
      dims[last] *= size;
      strideSets.forEach((strides, s) => (merged[s][last] = strides[axis]));
    } else {
      dims.push(size);
      strideSets.forEach((strides, s) => merged[s].push(strides[axis]));
    }
  }
  if (dims.length === 0) return [[1], ...strideSets.map(() => [0])];
  return [dims, ...merged];
}

/**
 * Walks every index of `shape` in row-major order, tracking one offset per stride set.
 * The innermost axis is a tight loop; outer axes advance an odometer.
 */
export function forEachIndex(
  shape: readonly number[],
  strideSets: readonly (readonly number[])[],
  visit: (flat: number, offsets: number[]) => void,
): void {
  const rank = shape.length;
  const total = sizeOf(shape);
  if (total === 0) return;
  const offsets = strideSets.map(() => 0);
  if (rank === 0) {
    visit(0, offsets);
    return;
  }
  const counter = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1];
  const innerStrides = strideSets.map((s) => s[rank - 1]);
  const current = offsets.slice();
  for (let flat = 0; flat < total; flat += inner) {
    for (let j = 0; j < inner; j++) {
      for (let s = 0; s < current.length; s++) current[s] = offsets[s] + j * innerStrides[s];
      visit(flat + j, current);
    }
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      for (let s = 0; s < offsets.length; s++) offsets[s] += strideSets[s][axis];
      if (counter[axis] < shape[axis]) break;
      for (let s = 0; s < offsets.length; s++) offsets[s] -= strideSets[s][axis] * shape[axis];
      counter[axis] = 0;
    }
  }
}

export function unary(fn: (x: number) => number): KernelFunc {
  return ([x]) => {
    const input = floats(x);
    const out = takeFloats(input.length);
    for (let i = 0; i < input.length; i++) out[i] = fn(input[i]);
    return [output(out, x.shape)];
  };
}

export const elementwiseKernels: KernelGroup = {
  Add: ([a, b]) => {
    const fast = simdKernelsActive() ? simdAddPath(a, b) : null;
    return [fast ?? broadcastBinary('Add', a, b)];
  },
  Sub: ([a, b]) => [broadcastBinary('Sub', a, b)],
  Mul: ([a, b]) => [broadcastBinary('Mul', a, b)],
  Div: ([a, b]) => [broadcastBinary('Div', a, b)],
  Neg: unary((x) => -x),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Sqrt: unary(Math.sqrt),
  Tanh: unary(Math.tanh),
  Relu: unary((x) => (x > 0 ? x : 0)),
  Affine: ([x], attrs) => {
    const factor = attrs.scale as number;
    const offset = (attrs.bias as number) ?? 0;
    // Its own loop: through `unary`'s shared call site a fresh closure per call runs megamorphic.
    const input = floats(x);
    const out = takeFloats(input.length);
    for (let i = 0; i < input.length; i++) out[i] = input[i] * factor + offset;
    return [output(out, x.shape)];
  },
  Dropout: ([x], attrs) => {
    const { p, seed } = attrs;
    if (simdKernelsActive()) return [output(simdDropout(floats(x), dropoutThreshold(p), dropoutScale(p), seed), x.shape)];
    const out = takeFloats(sizeOf(x.shape));
    applyDropoutMask(floats(x), out, p, seed);
    return [output(out, x.shape)];
  },
  ReluGrad: ([x, dy]) => {
    const input = floats(x);
    const grad = floats(dy);
    const out = takeFloats(input.length);
    for (let i = 0; i < input.length; i++) out[i] = input[i] > 0 ? grad[i] : 0;
    return [output(out, x.shape)];
  },
  Where: ([cond, a, b]) => {
    const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, a.shape), b.shape);
    const c = values(cond);
    const x = values(a);
    const y = values(b);
    const out = takeFloats(sizeOf(shape));
    const strides = [cond, a, b].map((t) => broadcastStrides(t.shape, shape));
    forEachIndex(shape, strides, (i, [ic, ia, ib]) => {
      out[i] = c[ic] !== 0 ? x[ia] : y[ib];
    });
    return [output(out, shape)];
  },
  Cast: ([x], attrs) => {
    const input = values(x);
    const out: HostArray = attrs.dtype === 'int32' ? Int32Array.from(input, (v) => Math.trunc(v)) : Float32Array.from(input);
    return [output(out, x.shape)];
  },
  AddInPlace: ([acc, x]) => {
    const target = values(acc);
    const source = values(x);
    // The SIMD add on every thread: the plain loop ran at ~2 ns per element in a base step (the
    // sums of gradients, 50-100 ms of it). Float32 sums either way, so the results are equal.
    if (simdKernelsActive() && target instanceof Float32Array && source instanceof Float32Array && target.length === source.length) {
      simdAdd(target, source, target);
      return [];
    }
    for (let i = 0; i < target.length; i++) target[i] += source[i];
    return [];
  },
};
