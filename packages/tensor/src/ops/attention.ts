import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { callKernel, callKernel1 } from './kernel-call.js';

export interface FusedAttentionOptions {
  heads: number;
  /** Additive float32 mask, [B, 1, 1, Lk] or [B, 1, Lq, Lk]; no gradient flows into it. */
  mask?: Tensor;
  /** Multiplies q k^T; default 1 / sqrt(H / heads). */
  scale?: number;
  /** Dropout on the probabilities: probability p and the uint32 seed of its mask (none when p = 0). */
  dropout?: { p: number; seed: number };
}

/**
 * Scaled dot-product attention over `heads` heads in one kernel (FusedAttention): q [B, Lq, H],
 * k and v [B, Lk, H] (already projected) -> [B, Lq, H]. Equal to splitting heads, then
 * matmul(q, k^T, alpha = scale) -> softmax(+ mask) -> dropout(p, seed) -> matmul(., v) -> merging
 * heads, without [B, heads, Lq, Lk] tensors; the backward recomputes the probabilities.
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, options: FusedAttentionOptions): Tensor {
  const { heads } = options;
  const [batch, , hidden] = q.shape;
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3 || k.shape[0] !== batch || v.shape[0] !== batch || k.shape[2] !== hidden || v.shape[2] !== hidden || k.shape[1] !== v.shape[1] || hidden % heads !== 0) {
    throw new Error(`fusedAttention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} with ${heads} heads: expected [B, Lq, H], [B, Lk, H], [B, Lk, H] with H divisible by heads`);
  }
  const attrs = {
    heads,
    scale: options.scale ?? 1 / Math.sqrt(hidden / heads),
    p: options.dropout?.p ?? 0,
    seed: options.dropout?.seed ?? 0,
  };
  const mask = options.mask;
  const out = callKernel1(KERNELS.FusedAttention, mask ? [q, k, v, mask] : [q, k, v], attrs);
  return attach(out, 'fusedAttention', [q, k, v], (dy) => callKernel(KERNELS.FusedAttentionGrad, mask ? [q, k, v, dy, mask] : [q, k, v, dy], attrs));
}
