/**
 * The kernel contract: every backend registers a function under each of these names.
 *
 * Ops (src/ops) never ask which backend runs; they call `runKernel(name, inputs, attrs)`.
 * All tensors a kernel sees are dense, row-major and contiguous. Kernels never mutate their
 * inputs, except the in-place kernels marked so below. Shapes in comments use B, L, H, V, N, M, K.
 */
export type DType = 'float32' | 'int32';

/** Whatever a backend keeps a tensor's values in (a Float32Array on cpu, a texture on a GPU). */
export type Storage = unknown;

/** What a kernel receives and returns: a storage handle plus its shape and dtype. */
export interface TensorInfo {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Name of the backend owning `storage`. */
  readonly backend: string;
}

/** Attributes as callers pass them: checked and completed against KERNEL_ATTRS by runKernel. */
export interface KernelAttrs {
  [key: string]: unknown;
}

/**
 * Kernel names and semantics. Inputs are listed in order; `attrs` in braces.
 * Broadcasting follows numpy: shapes are right-aligned, size-1 dims stretch.
 */
export const KERNELS = {
  /** [a, b] -> [broadcast(a, b)]: elementwise a+b / a-b / a*b / a/b (float32). */
  Add: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  Div: 'Div',
  /** [x] -> [same shape] elementwise. Gelu is the exact erf form 0.5x(1+erf(x/sqrt2)). */
  Neg: 'Neg',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Tanh: 'Tanh',
  Gelu: 'Gelu',
  Relu: 'Relu',
  /** [x] {scale, bias} -> x * scale + bias, elementwise. */
  Affine: 'Affine',
  /**
   * [x] {p, seed: uint32} -> x * mask, mask[i] = 0 where dropoutHash(seed, i) < floor(p * 2^32),
   * else fround(1 / (1 - p)) (engine/dropout-mask.ts; i is the flat index). Same seed, same mask
   * on every backend, so the backward is this kernel on dy with the forward's seed.
   */
  Dropout: 'Dropout',
  /** [x, dy] -> dy * gelu'(x). */
  GeluGrad: 'GeluGrad',
  /** [x, dy] -> dy * (x > 0). */
  ReluGrad: 'ReluGrad',
  /** [x] {axes: number[] (sorted, non-negative), keepDims: boolean} -> sum over axes. */
  Sum: 'Sum',
  /**
   * [a, b] or [a, b, bias [N]] {transA, transB, alpha = 1} -> [...batch, M, N]:
   * C = alpha * op(a) op(b) (+ bias, added to every output row).
   * a: [...batch, M, K] ([...batch, K, M] when transA); b: [...batch, K, N] ([..., N, K] when transB)
   * or a 2-D b shared across the batch. Batch dims of a and b (when b is batched) are equal.
   */
  MatMul: 'MatMul',
  /** [x] {perm: number[]} -> x permuted (materialised). */
  Transpose: 'Transpose',
  /** [...xs] {axis} -> concatenation along axis; all other dims equal. */
  Concat: 'Concat',
  /** [x] {begin: number[], size: number[]} -> the box x[begin : begin+size]. */
  Slice: 'Slice',
  /** [dy] {begin, shape: number[]} -> zeros(shape) with dy written at begin (slice backward). */
  SliceGrad: 'SliceGrad',
  /** [weight [V, H], ids int32 [N]] -> [N, H]: rows weight[ids]. Out-of-range ids throw. */
  Gather: 'Gather',
  /**
   * [dy [N, H], ids int32 [N]] {numRows: V, paddingIdx: number | null} -> [V, H]:
   * out[ids[n]] += dy[n]; rows looked up with id === paddingIdx get nothing (HF padding_idx).
   */
  ScatterAdd: 'ScatterAdd',
  /**
   * In place: [acc [V, H], dy [N, H], ids int32 [N]] {paddingIdx: number | null} -> [] ;
   * acc[ids[n]] += dy[n] (rows with id === paddingIdx skipped). An embedding's gradient added to a
   * gradient already summed, without a dense [V, H] scatter in between (ops/backward.ts).
   */
  ScatterAddInPlace: 'ScatterAddInPlace',
  /**
   * [x [..., H], gamma [H], beta [H]] {eps} -> [y [..., H], mean [R], rstd [R]], R = rows.
   * Biased variance, as torch.nn.LayerNorm.
   */
  LayerNorm: 'LayerNorm',
  /** [dy [..., H], x [..., H], gamma [H], mean [R], rstd [R]] -> [dx, dgamma [H], dbeta [H]]. */
  LayerNormGrad: 'LayerNormGrad',
  /**
   * [x [..., C]] or [x, mask] -> softmax over the last axis of (x + mask); mask (float32, additive)
   * broadcasts to x. A row whose entries are all -3.4e38 comes out uniform, never NaN.
   */
  Softmax: 'Softmax',
  /** [y, dy] -> y * (dy - sum(dy * y, last axis)). */
  SoftmaxGrad: 'SoftmaxGrad',
  /**
   * [logits [N, C], labels int32 [N]] {ignoreIndex} -> [loss [], logSumExp [N]]:
   * mean over rows with label != ignoreIndex of (logSumExp - logit[label]); 0 when no row counts.
   */
  CrossEntropy: 'CrossEntropy',
  /** [logits [N, C], labels int32 [N], logSumExp [N], dLoss []] {ignoreIndex} -> [dlogits [N, C]]. */
  CrossEntropyGrad: 'CrossEntropyGrad',
  /** [cond, a, b] -> broadcast(cond ? a : b); cond is int32 or float32 (nonzero = true). */
  Where: 'Where',
  /** [x] {dtype} -> values converted to dtype (float->int truncates toward zero). */
  Cast: 'Cast',
  /**
   * In place on p, m, v: AdamW step (decoupled weight decay), PyTorch's formula, on the gradient
   * gradScale * g: global-norm clipping folded into the update, so the clipped gradient is never
   * written out (g itself is left as it is).
   * [p, g, m, v] {lr, beta1, beta2, eps, weightDecay, step, gradScale = 1} -> [] .
   */
  AdamW: 'AdamW',
  /** In place: [acc, x] -> [] ; acc += x (same shape). Used to accumulate gradients. */
  AddInPlace: 'AddInPlace',
  /**
   * Multi-head attention without [B, heads, Lq, Lk] tensors.
   * [q [B, Lq, H], k [B, Lk, H], v [B, Lk, H]] or [q, k, v, mask] {heads, scale, p, seed} -> [out [B, Lq, H]].
   * Head h is columns h*d .. (h+1)*d - 1 (d = H / heads). out = P' v per head, with
   * P = softmax(fround(q k^T) * scale + mask) (mask float32 additive, [B, 1, 1, Lk] or [B, 1, Lq, Lk]) and
   * P' = Dropout(P) {p, seed} over the flat index of [B, heads, Lq, Lk] (p = 0: P' = P): exactly the
   * unfused MatMul {transB, alpha: scale} -> Softmax -> Dropout -> MatMul on split heads.
   */
  FusedAttention: 'FusedAttention',
  /**
   * [q, k, v, dOut [B, Lq, H]] or [q, k, v, dOut, mask] {heads, scale, p, seed} -> [dq, dk, dv]:
   * FusedAttention's gradients; the probabilities are recomputed, not stored.
   */
  FusedAttentionGrad: 'FusedAttentionGrad',
} as const;

export type KernelName = (typeof KERNELS)[keyof typeof KERNELS];

/**
 * Each kernel's attributes as its implementations receive them: checked and with every default
 * filled in (runKernel does it through `resolveKernelAttrs`), so no backend keeps defaults of its own.
 */
export type KernelAttrMap = {
  Add: NoAttrs;
  Sub: NoAttrs;
  Mul: NoAttrs;
  Div: NoAttrs;
  Neg: NoAttrs;
  Exp: NoAttrs;
  Log: NoAttrs;
  Sqrt: NoAttrs;
  Tanh: NoAttrs;
  Gelu: NoAttrs;
  Relu: NoAttrs;
  Affine: { scale: number; bias: number };
  Dropout: { p: number; seed: number };
  GeluGrad: NoAttrs;
  ReluGrad: NoAttrs;
  Sum: { axes: readonly number[]; keepDims: boolean };
  MatMul: { transA: boolean; transB: boolean; alpha: number };
  Transpose: { perm: readonly number[] };
  Concat: { axis: number };
  Slice: { begin: readonly number[]; size: readonly number[] };
  SliceGrad: { begin: readonly number[]; shape: readonly number[] };
  Gather: NoAttrs;
  ScatterAdd: { numRows: number; paddingIdx: number | null };
  ScatterAddInPlace: { paddingIdx: number | null };
  LayerNorm: { eps: number };
  LayerNormGrad: NoAttrs;
  Softmax: NoAttrs;
  SoftmaxGrad: NoAttrs;
  CrossEntropy: { ignoreIndex: number };
  CrossEntropyGrad: { ignoreIndex: number };
  Where: NoAttrs;
  Cast: { dtype: DType };
  AdamW: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number; gradScale: number };
  AddInPlace: NoAttrs;
  FusedAttention: { heads: number; scale: number; p: number; seed: number };
  FusedAttentionGrad: { heads: number; scale: number; p: number; seed: number };
};

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type NoAttrs = {};

/** A kernel implementation: inputs in contract order, attrs checked and defaulted. */
export type KernelFunc<K extends KernelName = KernelName> = (inputs: readonly TensorInfo[], attrs: KernelAttrMap[K]) => TensorInfo[];

/** Every kernel of the contract, as each backend registers them (engine.registerBackend checks it). */
export type KernelTable = { [K in KernelName]: KernelFunc<K> };

/** One backend file's share of a KernelTable. */
export type KernelGroup = Partial<KernelTable>;

/** How one attribute is checked, and its default when it may be left out (absent = required). */
export interface AttrSpec {
  kind: 'number' | 'probability' | 'uint32' | 'integer' | 'boolean' | 'integers' | 'dtype' | 'integerOrNull';
  default?: unknown;
}

const required = (kind: AttrSpec['kind']): AttrSpec => ({ kind });
const optional = (kind: AttrSpec['kind'], value: unknown): AttrSpec => ({ kind, default: value });

/** The one table of attribute types and defaults (defaults follow PyTorch where it has one). */
export const KERNEL_ATTRS: { [K in KernelName]: { [A in keyof KernelAttrMap[K]]-?: AttrSpec } } = {
  Add: {},
  Sub: {},
  Mul: {},
  Div: {},
  Neg: {},
  Exp: {},
  Log: {},
  Sqrt: {},
  Tanh: {},
  Gelu: {},
  Relu: {},
  Affine: { scale: optional('number', 1), bias: optional('number', 0) },
  Dropout: { p: required('probability'), seed: required('uint32') },
  GeluGrad: {},
  ReluGrad: {},
  Sum: { axes: required('integers'), keepDims: optional('boolean', false) },
  MatMul: { transA: optional('boolean', false), transB: optional('boolean', false), alpha: optional('number', 1) },
  Transpose: { perm: required('integers') },
  Concat: { axis: required('integer') },
  Slice: { begin: required('integers'), size: required('integers') },
  SliceGrad: { begin: required('integers'), shape: required('integers') },
  Gather: {},
  ScatterAdd: { numRows: required('integer'), paddingIdx: optional('integerOrNull', null) },
  ScatterAddInPlace: { paddingIdx: optional('integerOrNull', null) },
  LayerNorm: { eps: required('number') },
  LayerNormGrad: {},
  Softmax: {},
  SoftmaxGrad: {},
  CrossEntropy: { ignoreIndex: optional('integer', -100) },
  CrossEntropyGrad: { ignoreIndex: optional('integer', -100) },
  Where: {},
  Cast: { dtype: required('dtype') },
  AdamW: {
    lr: required('number'),
    beta1: optional('number', 0.9),
    beta2: optional('number', 0.999),
    eps: optional('number', 1e-8),
    weightDecay: optional('number', 0.01),
    step: required('integer'),
    gradScale: optional('number', 1),
  },
  AddInPlace: {},
  FusedAttention: { heads: required('integer'), scale: required('number'), p: optional('probability', 0), seed: optional('uint32', 0) },
  FusedAttentionGrad: { heads: required('integer'), scale: required('number'), p: optional('probability', 0), seed: optional('uint32', 0) },
};

/**
 * Kernels that write into some of their inputs (indices listed): runKernel refuses to run them on
 * inputs living on another backend, since moving those would update a copy and lose the write.
 */
export const IN_PLACE_INPUTS: Partial<Record<KernelName, readonly number[]>> = {
  AdamW: [0, 2, 3],
  AddInPlace: [0],
  ScatterAddInPlace: [0],
};

function attrOk(kind: AttrSpec['kind'], value: unknown): boolean {
  switch (kind) {
    case 'number':
      // NaN passes: mean over zero elements scales by 0/0 on purpose (numpy's answer).
      return typeof value === 'number';
    case 'probability':
      return typeof value === 'number' && value >= 0 && value < 1;
    case 'uint32':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'integerOrNull':
      return value === null || (typeof value === 'number' && Number.isInteger(value));
    case 'boolean':
      return typeof value === 'boolean';
    case 'integers':
      return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));
    case 'dtype':
      return value === 'float32' || value === 'int32';
  }
}

/** `attrs` checked against KERNEL_ATTRS[kernel], defaults filled in; throws naming the attr. */
export function resolveKernelAttrs<K extends KernelName>(kernel: K, attrs: KernelAttrs): KernelAttrMap[K] {
  const specs = KERNEL_ATTRS[kernel] as Record<string, AttrSpec>;
  const resolved: Record<string, unknown> = {};
  for (const name in specs) {
    const spec = specs[name];
    let value = attrs[name];
    if (value === undefined) {
      if (!('default' in spec)) throw new Error(`kernel ${kernel}: attr '${name}' (${spec.kind}) is required`);
      value = spec.default;
    } else if (!attrOk(spec.kind, value)) {
      throw new Error(`kernel ${kernel}: attr '${name}' must be ${spec.kind === 'integers' ? 'an array of integers' : spec.kind === 'probability' ? 'a number in [0, 1)' : `a ${spec.kind}`}, got ${JSON.stringify(value)}`);
    }
    resolved[name] = value;
  }
  for (const name in attrs) {
    if (!(name in specs) && attrs[name] !== undefined) throw new Error(`kernel ${kernel}: unknown attr '${name}'; it takes ${Object.keys(specs).join(', ') || 'none'}`);
  }
  return resolved as KernelAttrMap[K];
}
