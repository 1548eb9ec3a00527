import type { Tensor } from '../tensor.js';
import { matmul, permute, reshape, softmax, fromHostArray, fusedAttention } from '../ops/index.js';
import type { Dropout } from './layers.js';
import { formatShape } from '../shape.js';

/** float32's lowest value: the additive mask value HF uses (torch.finfo(float32).min). */
export const MASK_MIN = -3.4028234663852886e38;

export interface AttentionOptions {
  heads: number;
  /** Additive mask broadcastable to [B, heads, Lq, Lk], e.g. [B, 1, 1, Lk] or [B, 1, Lq, Lk]. */
  mask?: Tensor;
  /** Applied to the attention probabilities (dropout in training); forces the unfused path. */
  dropProbabilities?: (probabilities: Tensor) => Tensor;
  /**
   * Dropout on the probabilities, applied inside the fused kernel (FusedAttention: no
   * [B, heads, Lq, Lk] tensors); same masks and generator draws as `dropProbabilities: (p) => dropout.forward(p)`.
   */
  probabilityDropout?: Dropout;
}

/** [B, L, H] -> [B, heads, L, H/heads]. */
function splitHeads(x: Tensor, heads: number): Tensor {
  const [batch, length, hidden] = x.shape;
  return permute(reshape(x, [batch, length, heads, hidden / heads]), [0, 2, 1, 3]);
}

/**
 * Scaled dot-product attention over `heads` heads, as BERT's self-attention computes it:
 * softmax(q k^T / sqrt(d_head) + mask) v.
 * query [B, Lq, H], key and value [B, Lk, H] (already projected) -> [B, Lq, H].
 * Runs the FusedAttention kernel unless `dropProbabilities` asks for the unfused ops.
 */
export function multiHeadAttention(query: Tensor, key: Tensor, value: Tensor, options: AttentionOptions): Tensor {
  const { heads } = options;
  const [batch, queryLength, hidden] = query.shape;
  if (query.rank !== 3 || key.rank !== 3 || value.rank !== 3 || hidden % heads !== 0 || key.shape[2] !== hidden || value.shape[2] !== hidden || key.shape[1] !== value.shape[1] || key.shape[0] !== batch) {
    throw new Error(
      `multiHeadAttention: query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)} with ${heads} heads: expected [B, Lq, H], [B, Lk, H], [B, Lk, H] with H divisible by heads`,
    );
  }
  const m = options.mask?.shape;
  const fusable = !m || (m.length === 4 && (m[0] === batch || m[0] === 1) && m[1] === 1 && (m[2] === 1 || m[2] === queryLength) && m[3] === key.shape[1]);
  if (!options.dropProbabilities && fusable) {
    const seed = options.probabilityDropout?.drawSeed() ?? null;
    return fusedAttention(query, key, value, {
      heads,
      mask: options.mask,
      dropout: seed === null ? undefined : { p: options.probabilityDropout!.p, seed },
    });
  }
  const q = splitHeads(query, heads);
  const k = splitHeads(key, heads);
  const v = splitHeads(value, heads);
  // The 1/sqrt(d_head) scale is the product's alpha, not a pass of its own over [B, heads, Lq, Lk].
  const scores = matmul(q, k, { transB: true, alpha: 1 / Math.sqrt(hidden / heads) });
  let probabilities = softmax(scores, options.mask);
  if (options.dropProbabilities) probabilities = options.dropProbabilities(probabilities);
  const context = matmul(probabilities, v);
  return reshape(permute(context, [0, 2, 1, 3]), [batch, queryLength, hidden]);
}

/**
 * The one additive attention mask (BERT's padding mask and RetroMAE's M both come from here): HF's
 * extended attention mask (1 - visible) * MASK_MIN, computed in float32 exactly as PyTorch does
 * (a visible key adds -0, which leaves every score unchanged; a fully hidden row saturates to a
 * uniform softmax). No gradient.
 * visible (1 = may attend) [B, Lk] -> [B, 1, 1, Lk]; visible [B, Lq, Lk] -> [B, 1, Lq, Lk].
 */
export function additiveMask(visible: ArrayLike<number>, shape: readonly number[]): Tensor {
  const values = new Float32Array(visible.length);
  for (let i = 0; i < values.length; i++) values[i] = Math.fround(1 - visible[i]) * MASK_MIN;
  if (shape.length === 2) return fromHostArray(values, [shape[0], 1, 1, shape[1]]);
  if (shape.length === 3) return fromHostArray(values, [shape[0], 1, shape[1], shape[2]]);
  throw new Error(`additiveMask: expected [B, Lk] or [B, Lq, Lk] visibility, got ${formatShape(shape)}`);
}
