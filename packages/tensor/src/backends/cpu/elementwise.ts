import { KERNELS, type KernelFunc, type TensorInfo } from '../../engine/kernels.js';
import { registerKernel } from '../../engine/engine.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../shape.js';
import { CPU, floats, output, values, type HostArray } from './storage.js';

type Binary = (a: number, b: number) => number;

/**
 * Applies `fn` over the broadcast of a and b. Fast paths: equal shapes, and b repeating along
 * the leading axes of a (bias rows, per-row scalars) — the shapes training produces.
 */
function broadcastBinary(name: string, a: TensorInfo, b: TensorInfo, fn: Binary): TensorInfo {
  const shape = broadcastShapes(name, a.shape, b.shape);
  const x = values(a);
  const y = values(b);
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  if (x.length === n && y.length === n) {
    for (let i = 0; i < n; i++) out[i] = fn(x[i], y[i]);
    return output(out, shape);
  }
  if (y.length === 1) {
    const scalar = y[0];
    if (x.length === n) {
      for (let i = 0; i < n; i++) out[i] = fn(x[i], scalar);
      return output(out, shape);
    }
  }
  if (x.length === n && y.length > 0 && n % y.length === 0 && trailingMatch(b.shape, shape)) {
    const period = y.length;
    for (let base = 0; base < n; base += period) {
      for (let j = 0; j < period; j++) out[base + j] = fn(x[base + j], y[j]);
    }
    return output(out, shape);
  }
  const stridesA = broadcastStrides(a.shape, shape);
  const stridesB = broadcastStrides(b.shape, shape);
  forEachIndex(shape, [stridesA, stridesB], (i, [ia, ib]) => {
    out[i] = fn(x[ia], y[ib]);
  });
  return output(out, shape);
}

/** True when `shape` equals the last dims of `full` (so it tiles `full` contiguously). */
function trailingMatch(shape: readonly number[], full: readonly number[]): boolean {
  const dims = shape.slice(shape.findIndex((d) => d !== 1) === -1 ? shape.length : shape.findIndex((d) => d !== 1));
  const offset = full.length - dims.length;
  return dims.every((d, i) => d === full[offset + i]);
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

function unary(fn: (x: number) => number): KernelFunc {
  return ([x]) => {
    const input = floats(x);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = fn(input[i]);
    return [output(out, x.shape)];
  };
}

/** erf to float32 precision (Abramowitz-Stegun 7.1.26 is too coarse; this uses a rational fit, |err| < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2));
}

export function geluDerivative(x: number): number {
  return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

export function registerElementwiseKernels(): void {
  registerKernel(CPU, KERNELS.Add, ([a, b]) => [broadcastBinary('Add', a, b, (p, q) => p + q)]);
  registerKernel(CPU, KERNELS.Sub, ([a, b]) => [broadcastBinary('Sub', a, b, (p, q) => p - q)]);
  registerKernel(CPU, KERNELS.Mul, ([a, b]) => [broadcastBinary('Mul', a, b, (p, q) => p * q)]);
  registerKernel(CPU, KERNELS.Div, ([a, b]) => [broadcastBinary('Div', a, b, (p, q) => p / q)]);
  registerKernel(CPU, KERNELS.Neg, unary((x) => -x));
  registerKernel(CPU, KERNELS.Exp, unary(Math.exp));
  registerKernel(CPU, KERNELS.Log, unary(Math.log));
  registerKernel(CPU, KERNELS.Sqrt, unary(Math.sqrt));
  registerKernel(CPU, KERNELS.Tanh, unary(Math.tanh));
  registerKernel(CPU, KERNELS.Gelu, unary(gelu));
  registerKernel(CPU, KERNELS.Relu, unary((x) => (x > 0 ? x : 0)));
  registerKernel(CPU, KERNELS.Affine, ([x], attrs) => {
    const factor = attrs.scale as number;
    const offset = (attrs.bias as number) ?? 0;
    return unary((v) => v * factor + offset)([x], attrs);
  });
  registerKernel(CPU, KERNELS.GeluGrad, ([x, dy]) => [broadcastBinary('GeluGrad', x, dy, (p, g) => g * geluDerivative(p))]);
  registerKernel(CPU, KERNELS.ReluGrad, ([x, dy]) => [broadcastBinary('ReluGrad', x, dy, (p, g) => (p > 0 ? g : 0))]);
  registerKernel(CPU, KERNELS.Where, ([cond, a, b]) => {
    const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, a.shape), b.shape);
    const c = values(cond);
    const x = values(a);
    const y = values(b);
    const out = new Float32Array(sizeOf(shape));
    const strides = [cond, a, b].map((t) => broadcastStrides(t.shape, shape));
    forEachIndex(shape, strides, (i, [ic, ia, ib]) => {
      out[i] = c[ic] !== 0 ? x[ia] : y[ib];
    });
    return [output(out, shape)];
  });
  registerKernel(CPU, KERNELS.Cast, ([x], attrs) => {
    const input = values(x);
    const out: HostArray = attrs.dtype === 'int32' ? Int32Array.from(input, (v) => Math.trunc(v)) : Float32Array.from(input);
    return [output(out, x.shape)];
  });
  registerKernel(CPU, KERNELS.AddInPlace, ([acc, x]) => {
    const target = values(acc);
    const source = values(x);
    for (let i = 0; i < target.length; i++) target[i] += source[i];
    return [];
  });
}
