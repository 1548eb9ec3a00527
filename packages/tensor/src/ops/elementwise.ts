import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { broadcastShapes, formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { full } from './creation.js';
import { sumToShape } from './sum-to-shape.js';

function asTensor(value: Tensor | number): Tensor {
  return typeof value === 'number' ? full([], value) : value;
}

function requireFloat(op: string, ...inputs: Tensor[]): void {
  for (const input of inputs) {
    if (input.dtype !== 'float32') throw new Error(`${op}: expected float32 inputs, got ${input.dtype} ${formatShape(input.shape)}`);
  }
}

/** a + b with numpy broadcasting. Shapes: a [...], b [...] -> broadcast shape. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  requireFloat('add', x, y);
  broadcastShapes('add', x.shape, y.shape);
  const out = callKernel1(KERNELS.Add, [x, y]);
  return attach(out, 'add', [x, y], (dy) => [sumToShape(dy, x.shape), sumToShape(dy, y.shape)]);
}

/** a - b with broadcasting. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  requireFloat('sub', x, y);
  broadcastShapes('sub', x.shape, y.shape);
  const out = callKernel1(KERNELS.Sub, [x, y]);
  return attach(out, 'sub', [x, y], (dy) => [sumToShape(dy, x.shape), y.requiresGrad ? sumToShape(neg(dy), y.shape) : null]);
}

/** a * b with broadcasting. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  requireFloat('mul', x, y);
  broadcastShapes('mul', x.shape, y.shape);
  const out = callKernel1(KERNELS.Mul, [x, y]);
  return attach(out, 'mul', [x, y], (dy) => [
    x.requiresGrad ? sumToShape(mul(dy, y), x.shape) : null,
    y.requiresGrad ? sumToShape(mul(dy, x), y.shape) : null,
  ]);
}

/** a / b with broadcasting. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  requireFloat('div', x, y);
  broadcastShapes('div', x.shape, y.shape);
  const out = callKernel1(KERNELS.Div, [x, y]);
  return attach(out, 'div', [x, y], (dy) => [
    x.requiresGrad ? sumToShape(div(dy, y), x.shape) : null,
    // d(x/y)/dy = -x/y^2 = -out/y
    y.requiresGrad ? sumToShape(neg(div(mul(dy, out), y)), y.shape) : null,
  ]);
}

/** x * factor + offset, elementwise. */
export function affine(x: Tensor, factor: number, offset = 0): Tensor {
  requireFloat('affine', x);
  const out = callKernel1(KERNELS.Affine, [x], { scale: factor, bias: offset });
  return attach(out, 'affine', [x], (dy) => [affine(dy, factor)]);
}

export function scale(x: Tensor, factor: number): Tensor {
  return affine(x, factor, 0);
}

export function neg(x: Tensor): Tensor {
  requireFloat('neg', x);
  const out = callKernel1(KERNELS.Neg, [x]);
  return attach(out, 'neg', [x], (dy) => [neg(dy)]);
}

export function exp(x: Tensor): Tensor {
  requireFloat('exp', x);
  const out = callKernel1(KERNELS.Exp, [x]);
  return attach(out, 'exp', [x], (dy) => [mul(dy, out)]);
}

export function log(x: Tensor): Tensor {
  requireFloat('log', x);
  const out = callKernel1(KERNELS.Log, [x]);
  return attach(out, 'log', [x], (dy) => [div(dy, x)]);
}

export function sqrt(x: Tensor): Tensor {
  requireFloat('sqrt', x);
  const out = callKernel1(KERNELS.Sqrt, [x]);
  return attach(out, 'sqrt', [x], (dy) => [div(scale(dy, 0.5), out)]);
}

export function tanh(x: Tensor): Tensor {
  requireFloat('tanh', x);
  const out = callKernel1(KERNELS.Tanh, [x]);
  // d tanh = 1 - tanh^2
  return attach(out, 'tanh', [x], (dy) => [mul(dy, affine(mul(out, out), -1, 1))]);
}

/** GELU, exact erf form (HF `gelu`): 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: Tensor): Tensor {
  requireFloat('gelu', x);
  const out = callKernel1(KERNELS.Gelu, [x]);
  return attach(out, 'gelu', [x], (dy) => [callKernel1(KERNELS.GeluGrad, [x, dy])]);
}

export function relu(x: Tensor): Tensor {
  requireFloat('relu', x);
  const out = callKernel1(KERNELS.Relu, [x]);
  return attach(out, 'relu', [x], (dy) => [callKernel1(KERNELS.ReluGrad, [x, dy])]);
}

/** cond ? a : b with broadcasting; cond is int32 or float32 (nonzero = true). No grad to cond. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  requireFloat('where', x, y);
  broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = callKernel1(KERNELS.Where, [cond, x, y]);
  return attach(out, 'where', [x, y], (dy) => {
    const zero = full([], 0);
    return [
      x.requiresGrad ? sumToShape(callKernel1(KERNELS.Where, [cond, dy, zero]), x.shape) : null,
      y.requiresGrad ? sumToShape(callKernel1(KERNELS.Where, [cond, zero, dy]), y.shape) : null,
    ];
  });
}

/** x with `value` wherever mask is nonzero (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, full([], value), x);
}
