/**
 * Sentence vectors from token states, with a graph (for training). @retro/bert's `encode` does the
 * same without a graph for inference; both pool CLS = row 0 and mean = masked average.
 */
import { Tensor, div, mul, narrow, reshape, sqrt, sum, add } from '@retro/tensor';

export type Pooling = 'cls' | 'mean';

/**
 * lastHiddenState [B, L, H], mask float32 [B, L] (1 = real token) -> [B, H]:
 * 'cls' takes position 0 ([CLS], RetroMAE's sentence embedding), 'mean' averages the real tokens.
 */
export function pool(lastHiddenState: Tensor, mask: Tensor, pooling: Pooling): Tensor {
  const [B, L, H] = lastHiddenState.shape;
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== L) {
    throw new Error(`pool: mask must be [${B}, ${L}] for hidden states [${B}, ${L}, ${H}], got [${mask.shape.join(', ')}]`);
  }
  if (pooling === 'cls') return reshape(narrow(lastHiddenState, 1, 0, 1), [B, H]);
  if (pooling !== 'mean') throw new Error(`pool: pooling must be 'cls' or 'mean', got ${JSON.stringify(pooling)}`);
  const weights = reshape(mask, [B, L, 1]);
  return div(sum(mul(lastHiddenState, weights), 1), sum(weights, 1));
}

/** Added under the square root so an all-zero row gives 0 instead of NaN (torch F.normalize clamps at 1e-12). */
export const NORM_EPS = 1e-24;

/** x [N, H] -> x / sqrt(sum(x^2) + 1e-24) per row: unit vectors, so dot products are cosines. */
export function l2Normalize(x: Tensor): Tensor {
  if (x.rank !== 2) throw new Error(`l2Normalize: expected [N, H], got [${x.shape.join(', ')}]`);
  return div(x, sqrt(add(sum(mul(x, x), 1, true), NORM_EPS)));
}
