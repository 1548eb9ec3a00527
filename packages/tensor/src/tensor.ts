import { getBackend, getBackendByName, toBackend } from './engine/engine.js';
import type { DType, TensorInfo } from './engine/kernels.js';
import { formatShape, sizeOf } from './shape.js';
import { runBackward, isGradEnabled, type GradNode } from './autograd.js';
import * as ops from './ops/index.js';

export type NestedArray = number | NestedArray[];
export type TensorData = NestedArray | Float32Array | Int32Array | readonly number[];

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/**
 * A dense, row-major n-d array on the active backend, with reverse-mode autograd.
 * Views (`reshape`) share storage; every other op returns new storage.
 */
export class Tensor {
  info: TensorInfo;
  requiresGrad: boolean;
  /** Accumulated d(loss)/d(this) for leaves; summed across uses and backward calls until zeroed. */
  grad: Tensor | null = null;
  /** How this tensor was made, when it needs a gradient; null for leaves. */
  node: GradNode | null = null;
  /** Optional label used in error messages (parameter name). */
  name?: string;

  constructor(info: TensorInfo, requiresGrad = false) {
    this.info = info;
    this.requiresGrad = requiresGrad;
  }

  get shape(): readonly number[] {
    return this.info.shape;
  }

  get dtype(): DType {
    return this.info.dtype;
  }

  get size(): number {
    return sizeOf(this.info.shape);
  }

  get rank(): number {
    return this.info.shape.length;
  }

  /** A copy of the values as float32 (int32 tensors are converted). */
  toFloat32Array(): Float32Array {
    const host = getBackendByName(this.info.backend).toHost(this.info);
    return host instanceof Float32Array ? new Float32Array(host) : Float32Array.from(host);
  }

  /** A copy of the values as int32 (float32 values are truncated toward zero). */
  toInt32Array(): Int32Array {
    const host = getBackendByName(this.info.backend).toHost(this.info);
    return host instanceof Int32Array ? new Int32Array(host) : Int32Array.from(host, (x) => Math.trunc(x));
  }

  /** The values without copying where the backend allows it; do not mutate. */
  dataSync(): Float32Array | Int32Array {
    return getBackendByName(this.info.backend).toHost(this.info);
  }

  /** Nested arrays shaped like the tensor. */
  toArray(): NestedArray {
    const flat = Array.from(this.dataSync());
    if (this.rank === 0) return flat[0];
    const build = (axis: number, offset: number): NestedArray[] => {
      const dim = this.shape[axis];
      if (axis === this.rank - 1) return flat.slice(offset, offset + dim);
      const inner = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: dim }, (_, i) => build(axis + 1, offset + i * inner));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, expected 1`);
    return this.dataSync()[0];
  }

  /**
   * Back-propagates from this tensor. Without `gradient`, the tensor must be a scalar
   * (one element) and d(this)/d(this) = 1.
   */
  backward(gradient?: Tensor): void {
    if (!this.requiresGrad) {
      throw new Error('backward: this tensor does not require grad (no input of the graph had requiresGrad = true)');
    }
    let seed = gradient;
    if (!seed) {
      if (this.size !== 1) {
        throw new Error(`backward: an implicit gradient needs a one-element tensor, got shape ${formatShape(this.shape)}`);
      }
      seed = ops.full(this.shape, 1);
    } else if (!ops.sameShape(seed.shape, this.shape)) {
      throw new Error(`backward: gradient shape ${formatShape(seed.shape)} differs from tensor shape ${formatShape(this.shape)}`);
    }
    runBackward(this, seed);
  }

  /** The same values, cut from the graph. Shares storage. */
  detach(): Tensor {
    return new Tensor(this.info, false);
  }

  /** Marks a leaf as trainable (in place); returns this. */
  requiresGrad_(flag = true): this {
    if (this.node && !flag) throw new Error('requiresGrad_: cannot turn off grad on a non-leaf; use detach()');
    if (this.dtype !== 'float32' && flag) throw new Error(`requiresGrad_: only float32 tensors can require grad, got ${this.dtype}`);
    this.requiresGrad = flag;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** Overwrites this tensor's values (used by optimizers and checkpoint loading). Shapes must match. */
  assign(values: Float32Array | Tensor): void {
    const source = values instanceof Tensor ? values.toFloat32Array() : values;
    if (source.length !== this.size) {
      throw new Error(`assign: ${source.length} values for a tensor of shape ${formatShape(this.shape)}`);
    }
    const backend = getBackend();
    this.info = { storage: backend.fromHost(new Float32Array(source)), shape: this.shape, dtype: 'float32', backend: backend.name };
  }

  /** Moves storage to the active backend (no-op if already there). */
  toActiveBackend(): this {
    this.info = toBackend(this.info, getBackend());
    return this;
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // PyTorch-style methods; each delegates to the op of the same name.
  add(other: Tensor | number): Tensor { return ops.add(this, other); }
  sub(other: Tensor | number): Tensor { return ops.sub(this, other); }
  mul(other: Tensor | number): Tensor { return ops.mul(this, other); }
  div(other: Tensor | number): Tensor { return ops.div(this, other); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  tanh(): Tensor { return ops.tanh(this); }
  gelu(): Tensor { return ops.gelu(this); }
  relu(): Tensor { return ops.relu(this); }
  scale(factor: number): Tensor { return ops.scale(this, factor); }
  matmul(other: Tensor, options?: ops.MatmulOptions): Tensor { return ops.matmul(this, other, options); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  view(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  permute(perm: readonly number[]): Tensor { return ops.permute(this, perm); }
  transpose(dim0: number, dim1: number): Tensor { return ops.transpose(this, dim0, dim1); }
  slice(begin: readonly number[], size: readonly number[]): Tensor { return ops.slice(this, begin, size); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  softmax(mask?: Tensor): Tensor { return ops.softmax(this, mask); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  maskedFill(mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }
}

/** Wraps a kernel result; attaches a grad node when grad mode is on and an input needs it. */
export function fromInfo(info: TensorInfo): Tensor {
  return new Tensor(info, false);
}

export function gradRequired(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((input) => input?.requiresGrad === true);
}
