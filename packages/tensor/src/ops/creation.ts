import { getBackend } from '../engine/engine.js';
import type { DType } from '../engine/kernels.js';
import { Generator } from '@retro/random';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor, type TensorData, type TensorOptions, type NestedArray } from '../tensor.js';
import { fromHostArray } from './kernel-call.js';
import { keep, trackBorn } from '../scope.js';

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedArray;
  }
  return shape;
}

function flatten(data: NestedArray, shape: readonly number[], out: number[], axis = 0, path = ''): void {
  if (axis === shape.length) {
    if (typeof data !== 'number') throw new Error(`tensor: expected a number at ${path || 'top level'}, found ${Array.isArray(data) ? 'an array' : typeof data}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[axis]) {
    throw new Error(
      `tensor: ragged nested array: at ${path || 'top level'} expected ${shape[axis]} elements (shape ${formatShape(shape)}), found ${Array.isArray(data) ? data.length : typeof data}`,
    );
  }
  data.forEach((child, i) => flatten(child, shape, out, axis + 1, `${path}[${i}]`));
}

/** A trainable leaf is a parameter: no scope disposes it. */
function setTrainable(result: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) keep(result.requiresGrad_(true));
  return result;
}

/**
 * Creates a tensor from nested arrays or a flat typed array (`shape` then required unless 1-D).
 * `dtype` defaults to int32 for an Int32Array, else float32.
 */
export function tensor(data: TensorData, shape?: readonly number[], options: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let finalShape: number[];
  if (ArrayBuffer.isView(data) || (Array.isArray(data) && shape && data.every((x) => typeof x === 'number'))) {
    flat = data as ArrayLike<number>;
    finalShape = shape ? [...shape] : [flat.length];
  } else if (typeof data === 'number') {
    flat = [data];
    finalShape = shape ? [...shape] : [];
  } else {
    finalShape = inferShape(data as NestedArray);
    const values: number[] = [];
    flatten(data as NestedArray, finalShape, values);
    flat = values;
    if (shape && sizeOf(shape) === values.length) finalShape = [...shape];
    else if (shape) throw new Error(`tensor: data of shape ${formatShape(finalShape)} cannot take shape ${formatShape(shape)}`);
  }
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  for (const dim of finalShape) {
    if (!Number.isInteger(dim) || dim < 0) throw new Error(`tensor: invalid shape ${formatShape(finalShape)}`);
  }
  const dtype: DType = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const values = dtype === 'int32' ? Int32Array.from(flat as ArrayLike<number>) : Float32Array.from(flat as ArrayLike<number>);
  return setTrainable(fromHostArray(values, finalShape), options);
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) throw new Error(`${op}: invalid shape ${formatShape(shape)}`);
  }
}

export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  checkShape('zeros', shape);
  const backend = getBackend();
  const dtype = options.dtype ?? 'float32';
  const info = { storage: backend.zeros(sizeOf(shape), dtype), shape: [...shape], dtype, backend: backend.name };
  trackBorn(info);
  const result = new Tensor(info);
  return setTrainable(result, options);
}

/**
 * A float32 tensor [shape] for long-lived state that only kernels read and write between steps
 * (AdamW's moments): a copy of `values`, or zeros. On the cpu backend it lives in the SIMD kernels'
 * shared wasm memory where the host allows (`cpuStateMemoryStats()` counts where it could not), so
 * AdamW updates it in place instead of copying it in and out on every step; elsewhere it is an
 * ordinary tensor. Read it like any other (dataSync, toFloat32Array).
 */
export function stateTensor(shape: readonly number[], values?: Float32Array): Tensor {
  checkShape('stateTensor', shape);
  const size = sizeOf(shape);
  if (values !== undefined && values.length !== size) {
    throw new Error(`stateTensor: ${values.length} values for shape ${formatShape(shape)} (${size} elements)`);
  }
  const backend = getBackend();
  if (!backend.stateFromHost) return values === undefined ? zeros(shape) : fromHostArray(Float32Array.from(values), shape);
  const info = { storage: backend.stateFromHost(values === undefined ? new Float32Array(size) : Float32Array.from(values)), shape: [...shape], dtype: 'float32' as const, backend: backend.name };
  trackBorn(info);
  return new Tensor(info);
}

export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = options.dtype ?? 'float32';
  const values = dtype === 'int32' ? new Int32Array(sizeOf(shape)).fill(value) : new Float32Array(sizeOf(shape)).fill(value);
  return setTrainable(fromHostArray(values, shape), options);
}

export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

export interface RandomOptions extends TensorOptions {
  /** Seed for a fresh generator; ignored when `generator` is given. */
  seed?: number;
  generator?: Generator;
  mean?: number;
  std?: number;
}

/** Normal samples (mean 0, std 1 by default) from a seeded generator. */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const generator = options.generator ?? new Generator(options.seed ?? 0);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = mean + std * generator.normal();
  return setTrainable(fromHostArray(values, shape), options);
}

/** Uniform samples in [low, high) from a seeded generator. */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const generator = options.generator ?? new Generator(options.seed ?? 0);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * generator.random();
  return setTrainable(fromHostArray(values, shape), options);
}

/** [0, 1, ..., n-1] as int32 (or float32). */
export function arange(n: number, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'int32';
  const values = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  return fromHostArray(values, [n]);
}
