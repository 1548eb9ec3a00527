import type { Tensor } from '@retro/tensor';

/**
 * The contract between the loop and a training objective (RetroMAE, MLM-only, contrastive, ...):
 * the objective owns its batch type and its loss; the loop only sees "a step that returns losses".
 * Objectives live in their own packages and satisfy these shapes structurally, so they never
 * import @retro/train (dependencies point downward: train sits above every objective).
 */

/**
 * Scalar losses of one micro-batch, each a one-element Tensor. `loss` is back-propagated; every
 * other entry (RetroMAE: `encoderLoss`, `decoderLoss`) is only averaged and logged.
 */
export interface StepLosses {
  loss: Tensor;
  [name: string]: Tensor;
}

/** What the loop reads from any batch: how many real (non-padding) tokens it holds, for tokens/s. */
export interface CountedBatch {
  readonly tokens: number;
}

/** An objective as the loop drives it: one micro-batch in, scalar losses out, over named parameters. */
export interface Trainable<B extends CountedBatch> {
  /** Forward pass of one micro-batch (no backward: the loop scales `loss` and back-propagates it). */
  losses(batch: B): StepLosses;
  /** [name, tensor] per trainable parameter; tied tensors listed once. Names key the optimizer state. */
  namedParameters(): Array<[string, Tensor]>;
  /** Switches dropout on/off. */
  train(mode?: boolean): unknown;
  /** Writes the model's own files (config, weights) into an existing directory. */
  savePretrained(dir: string): void | Promise<void>;
  /**
   * Loads weights written by `savePretrained(dir)` into the existing parameters, bit-exactly.
   * Optional: without it the trainer reads `dir/model.safetensors` by `namedParameters()` names.
   */
  loadPretrained?(dir: string): void | Promise<void>;
}

/**
 * A resumable stream of batches. `state()` must be JSON-serialisable and describe the position
 * AFTER the last batch returned, so that `restore(state())` in a fresh process continues with the
 * very next batch. `next()` returns undefined when the data is exhausted (the run then ends).
 */
export interface BatchSource<B extends CountedBatch> {
  next(): B | undefined;
  state(): unknown;
  restore(state: unknown): void;
}
