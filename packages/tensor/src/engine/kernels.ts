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

export interface KernelAttrs {
  [key: string]: unknown;
}

export type KernelFunc = (inputs: readonly TensorInfo[], attrs: KernelAttrs) => TensorInfo[];

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
   * In place on p, m, v: AdamW step (decoupled weight decay), PyTorch's formula.
   * [p, g, m, v] {lr, beta1, beta2, eps, weightDecay, step} -> [] .
   */
  AdamW: 'AdamW',
  /** In place: [acc, x] -> [] ; acc += x (same shape). Used to accumulate gradients. */
  AddInPlace: 'AddInPlace',
} as const;

export type KernelName = (typeof KERNELS)[keyof typeof KERNELS];
