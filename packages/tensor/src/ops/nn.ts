import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import type { Generator } from '@retro/random';
import { broadcastShapes, formatShape, shapesEqual } from '../shape.js';
import type { RowGradient, Tensor } from '../tensor.js';
import { callKernel, callKernel1 } from './kernel-call.js';
import { reshape } from './shape-ops.js';

export interface EmbeddingOptions {
  /** Lookups of this row produce no gradient (torch nn.Embedding padding_idx). */
  paddingIdx?: number | null;
}

/**
 * Row lookup. weight [V, H], ids int32 [...S] -> [...S, H]. Backward scatter-adds into weight.
 */
export function embedding(weight: Tensor, ids: Tensor, options: EmbeddingOptions = {}): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [V, H], got ${formatShape(weight.shape)}`);
  if (ids.dtype !== 'int32') throw new Error(`embedding: ids must be int32, got ${ids.dtype} ${formatShape(ids.shape)}`);
  const flatIds = reshape(ids, [ids.size]);
  const rows = callKernel1(KERNELS.Gather, [weight, flatIds]);
  const out = reshape(rows, [...ids.shape, weight.shape[1]]);
  const paddingIdx = options.paddingIdx ?? null;
  // The gradient stays in rows; the reverse sweep scatters it (dense, or into a sum in place).
  return attach(out, 'embedding', [weight], (dy) => [
    { kind: 'rows', shape: weight.shape, rows: reshape(dy, [ids.size, weight.shape[1]]), ids: flatIds, paddingIdx } satisfies RowGradient,
  ]);
}

/**
 * LayerNorm over the last axis with biased variance (torch.nn.LayerNorm).
 * x [..., H], gamma [H], beta [H] -> [..., H].
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-12): Tensor {
  const hidden = x.shape[x.rank - 1];
  if (gamma.size !== hidden || beta.size !== hidden) {
    throw new Error(`layerNorm: x ${formatShape(x.shape)} needs gamma and beta of [${hidden}], got ${formatShape(gamma.shape)} and ${formatShape(beta.shape)}`);
  }
  const [out, meanRows, rstdRows] = callKernel(KERNELS.LayerNorm, [x, gamma, beta], { eps });
  return attach(out, 'layerNorm', [x, gamma, beta], (dy) => {
    const [dx, dGamma, dBeta] = callKernel(KERNELS.LayerNormGrad, [dy, x, gamma, meanRows, rstdRows]);
    return [dx, reshape(dGamma, gamma.shape), reshape(dBeta, beta.shape)];
  });
}

/**
 * Softmax over the last axis of x + mask. mask (additive, float32, no gradient) broadcasts to x,
 * e.g. x [B, heads, Lq, Lk] with mask [B, 1, 1, Lk] or [B, 1, Lq, Lk].
 */
export function softmax(x: Tensor, mask?: Tensor): Tensor {
  // Kernels index the mask by broadcast strides over x's shape; one that does not broadcast to
  // exactly x would be read out of place (or widen the result), so refuse it here.
  if (mask && !shapesEqual(broadcastShapes('softmax', x.shape, mask.shape), x.shape)) {
    throw new Error(`softmax: mask ${formatShape(mask.shape)} does not broadcast to x ${formatShape(x.shape)}`);
  }
  const out = callKernel1(KERNELS.Softmax, mask ? [x, mask] : [x]);
  return attach(out, 'softmax', [x], (dy) => [callKernel1(KERNELS.SoftmaxGrad, [out, dy])]);
}

export interface DropoutOptions {
  generator: Generator;
  training?: boolean;
}

/**
 * Inverted dropout: zeroes each entry with probability p, scales the rest by fround(1/(1-p)).
 * x [...] -> [...]. Draws one uint32 from `generator` per call (none in eval mode or at p = 0).
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (p < 0 || p >= 1) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return x;
  if (x.dtype !== 'float32') throw new Error(`dropout: expected float32, got ${x.dtype} ${formatShape(x.shape)}`);
  // One draw per call: the mask itself is a hash of (seed, index), so the backward regenerates
  // it from the seed instead of keeping it, and a saved generator state still replays every mask.
  const seed = options.generator.nextUint32();
  const out = callKernel1(KERNELS.Dropout, [x], { p, seed });
  return attach(out, 'dropout', [x], (dy) => [callKernel1(KERNELS.Dropout, [dy], { p, seed })]);
}

export interface CrossEntropyOptions {
  /** Rows with this label are ignored (HF: -100). */
  ignoreIndex?: number;
}

/**
 * Mean cross-entropy over labelled rows, fused with log-softmax.
 * logits [N, C] (or [..., C], flattened), labels int32 [N] -> scalar [].
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / classes;
  if (labels.dtype !== 'int32') throw new Error(`crossEntropy: labels must be int32, got ${labels.dtype}`);
  if (labels.size !== rows) {
    throw new Error(`crossEntropy: logits ${formatShape(logits.shape)} have ${rows} rows but labels ${formatShape(labels.shape)} have ${labels.size}`);
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  const flatLogits = reshape(logits, [rows, classes]);
  const flatLabels = reshape(labels, [rows]);
  const [loss, logSumExp] = callKernel(KERNELS.CrossEntropy, [flatLogits, flatLabels], { ignoreIndex });
  return attach(loss, 'crossEntropy', [logits], (dLoss) => [
    reshape(callKernel1(KERNELS.CrossEntropyGrad, [flatLogits, flatLabels, logSumExp, dLoss], { ignoreIndex }), logits.shape),
  ]);
}
