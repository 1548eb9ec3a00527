import type { Tensor } from '@retro/tensor';

/** Whatever one forward call consumes; the loop never looks inside except through `tokenCount`. */
export type Batch = unknown;

/**
 * Scalar losses of one forward pass. `loss` is what gets back-propagated; every other scalar
 * (RetroMAE: `encoderLoss`, `decoderLoss`) is only logged. An MLM-only model returns `{ loss }`.
 */
export interface ForwardOutput {
  loss: Tensor;
  [key: string]: Tensor;
}

/**
 * What the loop needs from a model. `RetroMAEForPretraining` and any `nn.Module` with a
 * `forward(batch)` that returns losses fit this shape.
 */
export interface TrainableModel {
  forward(batch: Batch): ForwardOutput;
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
export interface BatchSource<B = Batch> {
  next(): B | undefined;
  state(): unknown;
  restore(state: unknown): void;
}
