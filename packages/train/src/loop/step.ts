import { getBackend, mul, noGrad, readTensors, scale, scope, sum, type Tensor } from '@retro/tensor';
import { clipScale, globalGradNorm } from '../clip.js';
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
 * so the gradient is that of the mean loss), NaN/Inf checks, global-norm clipping, AdamW at `lr`.
 * `update` (1-based) and `batchesConsumed` (batches taken before this update) only name the
 * culprit in a TrainingDivergedError. `taken` counts the batches taken from the source;
 * `outcome` is undefined, with no update applied, when the source ran out mid-update: a partial
 * update would weigh its batches differently.
 *
 * On a backend that reads asynchronously (WebGPU) the update reads back once: every micro-batch's
 * losses and each gradient's sum of squares in one transfer, after the last backward; the
 * clipping scale and AdamW then run on the device. Elsewhere values are checked after each
 * micro-batch, as reading them costs nothing there.
 *
 * Device memory: every tensor the update makes (batch uploads, activations, backward
 * temporaries) is disposed by the end of the update (tensor scopes); what survives is what the
 * parameters own, their `.grad` and the AdamW moments, so memory between updates is flat.
 */
export async function runUpdate<B extends CountedBatch>(
  parts: UpdateParts<B>,
  lr: number,
  update: number,
  batchesConsumed: number,
): Promise<{ taken: number; outcome?: UpdateOutcome }> {
  if (getBackend().asyncReads === true) return runDeviceUpdate(parts, lr, update, batchesConsumed);
  const { model, batches, optimizer, namedParameters, params, accumulation, clipNorm } = parts;
  optimizer.zeroGrad();
  const sums: Record<string, number> = {};
  let tokens = 0;
  let norm = 0;
  for (let micro = 0; micro < accumulation; micro++) {
    const batchIndex = batchesConsumed + micro;
    const ran = scope(() => {
      const batch = batches.next();
      if (batch === undefined) return false;
      tokens += batch.tokens;
      const losses = checkedLosses(model, batch);
      for (const [name, value] of Object.entries(losses)) {
        const scalar = value.item();
        if (!Number.isFinite(scalar)) throw new TrainingDivergedError({ step: update, microBatch: micro, batchIndex, quantity: 'loss', name, value: scalar });
        sums[name] = (sums[name] ?? 0) + scalar;
      }
      (accumulation === 1 ? losses.loss : scale(losses.loss, 1 / accumulation)).backward();
      return true;
    }, 'train micro-batch');
    if (!ran) return { taken: micro };
    // After the last micro-batch this is the norm clipping needs: it is not taken twice.
    norm = globalGradNorm(params);
    if (!Number.isFinite(norm)) {
      const culprit = namedParameters.find(([, tensor]) => tensor.grad && !Number.isFinite(globalGradNorm([tensor])));
      throw new TrainingDivergedError({ step: update, microBatch: micro, batchIndex, quantity: 'gradient', name: culprit?.[0] ?? '?', value: norm });
    }
  }
  const gradNorm = norm;
  // torch's clip_grad_norm_ then AdamW, as one update: AdamW uses clipScale * grad
  scope(() => optimizer.step(lr, { gradScale: clipScale(clipNorm, gradNorm) }), 'train optimizer step');
  const losses: Record<string, number> = {};
  for (const [name, sum] of Object.entries(sums)) losses[name] = sum / accumulation;
  return { taken: accumulation, outcome: { losses, gradNorm, tokens } };
}

function checkedLosses<B extends CountedBatch>(model: UpdateParts<B>['model'], batch: B): Record<string, Tensor> & { loss: Tensor } {
  const losses = model.losses(batch);
  if (!losses?.loss || losses.loss.size !== 1) {
    throw new Error(`train: model.losses must return { loss: <one-element Tensor>, ... }, got loss ${losses?.loss ? `of shape [${losses.loss.shape.join(', ')}]` : 'missing'}`);
  }
  for (const [name, value] of Object.entries(losses)) {
    if (value.size !== 1) throw new Error(`train: model.losses returned '${name}' of shape [${value.shape.join(', ')}]; every loss must be a one-element Tensor`);
  }
  return losses;
}

/** runUpdate on an asynchronous device: one transfer per update (see runUpdate). */
async function runDeviceUpdate<B extends CountedBatch>(parts: UpdateParts<B>, lr: number, update: number, batchesConsumed: number): Promise<{ taken: number; outcome?: UpdateOutcome }> {
  const { model, batches, optimizer, namedParameters, accumulation, clipNorm } = parts;
  optimizer.zeroGrad();
  // Forward and backward of every micro-batch, and what the one transfer reads: the losses and
  // each gradient's sum of squares, returned from the scope (everything else it made is freed).
  type Computed = { taken: number } | { perMicro: Array<Array<[string, Tensor]>>; tokens: number; withGrad: Array<[string, Tensor]>; squares: Tensor[] };
  const computed = scope((): Computed => {
    const perMicro: Array<Array<[string, Tensor]>> = [];
    let tokens = 0;
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = batches.next();
      if (batch === undefined) return { taken: micro };
      tokens += batch.tokens;
      const losses = checkedLosses(model, batch);
      perMicro.push(Object.entries(losses));
      // Activations are freed as the sweep passes them; the losses stay for the one read.
      (accumulation === 1 ? losses.loss : scale(losses.loss, 1 / accumulation)).backward(undefined, { freeGraph: true, retain: Object.values(losses) });
    }
    const withGrad = namedParameters.filter(([, tensor]) => tensor.grad);
    const squares = noGrad(() => withGrad.map(([, tensor]) => sum(mul(tensor.grad!, tensor.grad!))));
    return { perMicro, tokens, withGrad, squares };
  }, 'train update');
  if (!('perMicro' in computed)) return computed;
  const { perMicro, tokens, withGrad, squares } = computed;
  const scalars = perMicro.flatMap((entries) => entries.map(([, value]) => value));
  let values: (Float32Array | Int32Array)[];
  try {
    values = await readTensors([...scalars, ...squares]);
  } finally {
    for (const tensor of [...scalars, ...squares]) tensor.dispose();
  }
  const sums: Record<string, number> = {};
  let k = 0;
  perMicro.forEach((entries, micro) => {
    for (const [name] of entries) {
      const scalar = values[k++][0];
      if (!Number.isFinite(scalar)) throw new TrainingDivergedError({ step: update, microBatch: micro, batchIndex: batchesConsumed + micro, quantity: 'loss', name, value: scalar });
      sums[name] = (sums[name] ?? 0) + scalar;
    }
  });
  // The squares are float32 sums per gradient; their total is taken in float64 as globalGradNorm does.
  let total = 0;
  let culprit: string | null = null;
  withGrad.forEach(([name], i) => {
    const square = values[scalars.length + i][0];
    if (!Number.isFinite(square) && culprit === null) culprit = name;
    total += square;
  });
  const gradNorm = Math.sqrt(total);
  if (!Number.isFinite(gradNorm)) {
    // Checked once per update here: the culprit is named, the micro-batch is the update's last.
    const last = accumulation - 1;
    throw new TrainingDivergedError({ step: update, microBatch: last, batchIndex: batchesConsumed + last, quantity: 'gradient', name: culprit ?? '?', value: gradNorm });
  }
  // torch's clip_grad_norm_ (the norm already on the host) then AdamW, as one update on the device
  scope(() => optimizer.step(lr, { gradScale: clipScale(clipNorm, gradNorm) }), 'train optimizer step');
  const losses: Record<string, number> = {};
  for (const [name, total] of Object.entries(sums)) losses[name] = total / accumulation;
  return { taken: accumulation, outcome: { losses, gradNorm, tokens } };
}
