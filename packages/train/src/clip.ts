import { keep, noGrad, scale, type Tensor } from '@retro/tensor';

/**
 * sqrt(sum of squares) of every gradient together, summed in float64 (null grads count as 0).
 * Returns NaN/Infinity when a gradient holds one.
 */
export function globalGradNorm(params: readonly Tensor[]): number {
  let sumSquares = 0;
  for (const param of params) {
    if (!param.grad) continue;
    // readSync, not dataSync: the gradient's storage may go back to the cpu buffer pool when it is freed
    sumSquares += param.grad.readSync(sumOfSquares);
  }
  return Math.sqrt(sumSquares);
}

/**
 * Four float64 partial sums, combined at the end: one accumulator waits on each add's latency
 * (102M gradients: 95-106 ms against 55-65 ms, benchmarks/results/issue-19-session10). The order
 * is fixed, so the norm is too.
 */
function sumOfSquares(values: ArrayLike<number>): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = values.length;
  const end4 = n - (n % 4);
  for (let i = 0; i < end4; i += 4) {
    s0 += values[i] * values[i];
    s1 += values[i + 1] * values[i + 1];
    s2 += values[i + 2] * values[i + 2];
    s3 += values[i + 3] * values[i + 3];
  }
  for (let i = end4; i < n; i++) s0 += values[i] * values[i];
  return s0 + s1 + (s2 + s3);
}

/**
 * The factor torch.nn.utils.clip_grad_norm_ multiplies every gradient by: maxNorm / (total + 1e-6)
 * when that is below 1, else 1 (also 1 with no clipping, maxNorm null). The training loop hands
 * it to AdamW.step as `gradScale`, which is the same update without rewriting the gradients.
 */
export function clipScale(maxNorm: number | null, total: number): number {
  if (maxNorm === null || maxNorm === 0) return 1;
  if (!(maxNorm > 0)) throw new Error(`clipScale: maxNorm must be > 0, got ${maxNorm}`);
  const coefficient = maxNorm / (total + 1e-6);
  return coefficient < 1 ? coefficient : 1;
}

/**
 * torch.nn.utils.clip_grad_norm_: total = global L2 norm of all gradients; coefficient =
 * maxNorm / (total + 1e-6); when that is below 1 every gradient is multiplied by it.
 * Returns the norm before clipping. A non-finite norm is returned without touching gradients
 * (the caller decides what divergence means).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const total = globalGradNorm(params);
  if (!Number.isFinite(total)) return total;
  const coefficient = clipScale(maxNorm, total);
  if (coefficient < 1) {
    noGrad(() => {
      for (const param of params) if (param.grad) replaceGrad(param, scale(param.grad, coefficient));
    });
  }
  return total;
}

/**
 * Gives `param` a new `.grad`, which it owns past every tensor scope, and frees the one it
 * replaces (a leaf's grad is its own; see runBackward).
 */
export function replaceGrad(param: Tensor, grad: Tensor): void {
  const previous = param.grad;
  param.grad = keep(grad);
  if (previous && previous.info.storage !== grad.info.storage) previous.dispose();
}
