import { getBackend, getBackendByName, readInfos, toBackend } from './engine/engine.js';
import type { DType, TensorInfo } from './engine/kernels.js';
import { formatShape, sizeOf } from './shape.js';

export type NestedArray = number | NestedArray[];
export type TensorData = NestedArray | Float32Array | Int32Array | readonly number[];

/** One recorded op: its inputs and a closure mapping d(out) to d(inputs) (null = no grad). */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: (gradOutput: Tensor) => readonly (Tensor | RowGradient | null)[];
}

/**
 * A gradient that is zero outside the rows it lists: the dense [V, H] gradient is `rows` [N, H]
 * scattered by `ids` [N] (rows looked up as paddingIdx dropped). An embedding's backward returns
 * one, so that the reverse sweep adds it straight into a gradient already summed for a tied
 * weight, instead of materialising a dense [V, H] scatter (ops/backward.ts).
 */
export interface RowGradient {
  readonly kind: 'rows';
  readonly shape: readonly number[];
  readonly rows: Tensor;
  readonly ids: Tensor;
  readonly paddingIdx: number | null;
}

/** Options of `matmul` (ops/matmul.ts); here because Tensor.matmul takes them too. */
export interface MatmulOptions {
  /** Use a's last two axes transposed, without materialising the transpose. */
  transA?: boolean;
  transB?: boolean;
  /** Scales the product: alpha * op(a) op(b) (default 1). */
  alpha?: number;
  /** [N], added to every output row after the scaling (a fused Linear bias). */
  bias?: Tensor;
}

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /**
   * Dispose each graph tensor a scope owns (an activation: not a parameter, not kept) as soon as
   * the sweep has run its backward and every other graph tensor sharing its storage (views), like
   * PyTorch freeing saved tensors (retain_graph=False): a lower peak on devices. The graph cannot
   * be back-propagated again, and only `retain` (and the root) stay readable. No effect where
   * scopes track nothing (cpu).
   */
  freeGraph?: boolean;
  /** Graph tensors `freeGraph` leaves alone (losses to read after the sweep). */
  retain?: readonly Tensor[];
}

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/**
 * PyTorch-style methods, each the op of the same name. They are attached to the prototype from the
 * ops side (ops/methods.ts, as tfjs's chained ops are), so this file imports no op and ops,
 * autograd and the Tensor form no import circle.
 */
export interface Tensor {
  /**
   * Back-propagates from this tensor. Without `gradient`, the tensor must be a scalar
   * (one element) and d(this)/d(this) = 1. `options.freeGraph` (see BackwardOptions) frees the
   * graph's activations as the sweep passes them.
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void;
  add(other: Tensor | number): Tensor;
  sub(other: Tensor | number): Tensor;
  mul(other: Tensor | number): Tensor;
  div(other: Tensor | number): Tensor;
  neg(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  sqrt(): Tensor;
  tanh(): Tensor;
  gelu(): Tensor;
  relu(): Tensor;
  scale(factor: number): Tensor;
  matmul(other: Tensor, options?: MatmulOptions): Tensor;
  reshape(shape: readonly number[]): Tensor;
  view(shape: readonly number[]): Tensor;
  permute(perm: readonly number[]): Tensor;
  transpose(dim0: number, dim1: number): Tensor;
  slice(begin: readonly number[], size: readonly number[]): Tensor;
  narrow(dim: number, start: number, length: number): Tensor;
  sum(axes?: number | readonly number[], keepDims?: boolean): Tensor;
  mean(axes?: number | readonly number[], keepDims?: boolean): Tensor;
  softmax(mask?: Tensor): Tensor;
  cast(dtype: DType): Tensor;
  maskedFill(mask: Tensor, value: number): Tensor;
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

  /**
   * `read(values)` without copying where the backend allows it, for a read that keeps nothing:
   * the array is valid only during the call and must not be kept or mutated (on the cpu, a storage
   * read here may still be recycled once freed; one handed out by dataSync never is).
   * @returns what `read` returns.
   */
  readSync<R>(read: (values: Float32Array | Int32Array) => R): R {
    const backend = getBackendByName(this.info.backend);
    return read(backend.peekHost ? backend.peekHost(this.info) : backend.toHost(this.info));
  }

  /** Nested arrays shaped like the tensor. */
  toArray(): NestedArray {
    return nest(Array.from(this.dataSync()), this.shape);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, expected 1`);
    return this.dataSync()[0];
  }

  /**
   * A copy of the values, once the backend has computed them: the read that works on every
   * backend (on WebGPU the only one for values computed on the device).
   */
  async data(): Promise<Float32Array | Int32Array> {
    const [values] = await readInfos([this.info]);
    // a copy: the cpu backend hands back its storage itself
    return values.slice();
  }

  /** `item()` for every backend. */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`itemAsync: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, expected 1`);
    return (await this.data())[0];
  }

  /** `toArray()` for every backend. */
  async array(): Promise<NestedArray> {
    return nest(Array.from(await this.data()), this.shape);
  }

  /** Frees the storage now (device memory on GPU backends); the tensor must not be used after. */
  dispose(): void {
    getBackendByName(this.info.backend).dispose?.(this.info);
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

  /** Drops `.grad`, freeing its storage (a leaf owns its grad alone; see ops/backward.ts). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Overwrites this tensor's values (used by optimizers and checkpoint loading). Shapes must match.
   * The tensor gets new storage; `disposePrevious` frees the old one now (device memory) rather
   * than leaving it to GC: for loaders, which own the parameters they fill and hold no view of them.
   */
  assign(values: Float32Array | Tensor, options: { disposePrevious?: boolean } = {}): void {
    const source = values instanceof Tensor ? values.toFloat32Array() : values;
    if (source.length !== this.size) {
      throw new Error(`assign: ${source.length} values for a tensor of shape ${formatShape(this.shape)}`);
    }
    const backend = getBackend();
    const previous = this.info;
    this.info = { storage: backend.fromHost(new Float32Array(source)), shape: this.shape, dtype: 'float32', backend: backend.name };
    if (options.disposePrevious && previous.storage !== this.info.storage) getBackendByName(previous.backend).dispose?.(previous);
  }

  /** Moves storage to the active backend (no-op if already there). */
  toActiveBackend(): this {
    this.info = toBackend(this.info, getBackend());
    return this;
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function nest(flat: number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const build = (axis: number, offset: number): NestedArray[] => {
    const dim = shape[axis];
    if (axis === shape.length - 1) return flat.slice(offset, offset + dim);
    const inner = sizeOf(shape.slice(axis + 1));
    return Array.from({ length: dim }, (_, i) => build(axis + 1, offset + i * inner));
  };
  return build(0, 0);
}

/**
 * The values of several tensors, in one device-to-host transfer where the backend batches reads:
 * how a training step reads its losses, gradient norm and finiteness check together.
 */
export async function readTensors(tensors: readonly Tensor[]): Promise<(Float32Array | Int32Array)[]> {
  return (await readInfos(tensors.map((t) => t.info))).map((values) => values.slice());
}
