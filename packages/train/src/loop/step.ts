import { scale, type Tensor } from '@retro/tensor';
import { clipGradNorm, globalGradNorm } from '../clip.js';
import { TrainingDivergedError } from '../errors.js';
import type { BatchSource, CountedBatch, Trainable } from '../objective.js';
import type { AdamW } from '../optim/adamw.js';

/** What one optimizer update did. */
export interface UpdateOutcome {
  /** Scalar losses, mean over the update's micro-batches. */
  losses: Record<string, number>;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Real tokens in the update's micro-batches. */
  tokens: number;
}

export interface UpdateParts<B extends CountedBatch> {
  model: Trainable<B>;
  batches: BatchSource<B>;
  optimizer: AdamW;
  namedParameters: Array<[string, Tensor]>;
  params: Tensor[];
  accumulation: number;
  clipNorm: number | null;
}

/**
 * One optimizer update: `accumulation` micro-batches of forward + backward (loss / accumulation,
 * so the gradient is that of the mean loss), NaN/Inf checks after each, global-norm clipping,
 * AdamW at `lr`. `update` (1-based) and `batchesConsumed` (batches taken before this update) only
 * name the culprit in a TrainingDivergedError. `taken` counts the batches taken from the source;
 * `outcome` is undefined, with no update applied, when the source ran out mid-update: a partial
 * update would weigh its batches differently.
 */
export function runUpdate<B extends CountedBatch>(parts: UpdateParts<B>, lr: number, update: number, batchesConsumed: number): { taken: number; outcome?: UpdateOutcome } {
  const { model, batches, optimizer, namedParameters, params, accumulation, clipNorm } = parts;
  optimizer.zeroGrad();
  const sums: Record<string, number> = {};
  let tokens = 0;
  for (let micro = 0; micro < accumulation; micro++) {
    const batch = batches.next();
    if (batch === undefined) return { taken: micro };
    const batchIndex = batchesConsumed + micro;
    tokens += batch.tokens;
    const losses = model.losses(batch);
    if (!losses?.loss || losses.loss.size !== 1) {
      throw new Error(`train: model.losses must return { loss: <one-element Tensor>, ... }, got loss ${losses?.loss ? `of shape [${losses.loss.shape.join(', ')}]` : 'missing'}`);
    }
    for (const [name, value] of Object.entries(losses)) {
      if (value.size !== 1) throw new Error(`train: model.losses returned '${name}' of shape [${value.shape.join(', ')}]; every loss must be a one-element Tensor`);
      const scalar = value.item();
      if (!Number.isFinite(scalar)) throw new TrainingDivergedError({ step: update, microBatch: micro, batchIndex, quantity: 'loss', name, value: scalar });
      sums[name] = (sums[name] ?? 0) + scalar;
    }
    (accumulation === 1 ? losses.loss : scale(losses.loss, 1 / accumulation)).backward();
    const norm = globalGradNorm(params);
    if (!Number.isFinite(norm)) {
      const culprit = namedParameters.find(([, tensor]) => tensor.grad && !Number.isFinite(globalGradNorm([tensor])));
      throw new TrainingDivergedError({ step: update, microBatch: micro, batchIndex, quantity: 'gradient', name: culprit?.[0] ?? '?', value: norm });
    }
  }
  const gradNorm = clipNorm ? clipGradNorm(params, clipNorm) : globalGradNorm(params);
  optimizer.step(lr);
  const losses: Record<string, number> = {};
  for (const [name, sum] of Object.entries(sums)) losses[name] = sum / accumulation;
  return { taken: accumulation, outcome: { losses, gradNorm, tokens } };
}
