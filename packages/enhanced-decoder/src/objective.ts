/**
 * RetroMAE (and its MLM-only baseline) as a training objective: a resumable source of collated
 * batches and "a step that returns losses". These satisfy @retro/train's `BatchSource` and
 * `Trainable` structurally, so this package does not depend on the trainer above it.
 */
import type { Tensor } from '@retro/tensor';
import { collateMLM, collateRetroMAE, type CollatedRetroMAEBatch, type MaskedDataBatch } from './collator.js';
import type { RetroMAEForPretraining } from './model.js';

/** A resumable stream of encoder-masked data batches, e.g. @retro/data's BatchLoader (S = its LoaderState). */
export interface MaskedBatchStream<S> {
  /** null or undefined when the data is exhausted. */
  next(): MaskedDataBatch | null | undefined;
  /** JSON-serialisable position after the last batch returned. */
  state(): S;
  restore(state: S): void;
}

export interface RetroMAEBatchesOptions {
  /** Collate the encoder's fields only (for a model in MLM-only mode). */
  mlmOnly?: boolean;
  /** Share of each row's tokens hidden in M (ignored when mlmOnly). */
  decoderRatio: number;
  /** Seed of M, mixed with each batch's (epoch, batchInEpoch), so a resume samples the same M. */
  seed: number;
  /** Hidden sets per sequence that rows pick from (see collateRetroMAE). */
  maskSetSize?: number;
}

/**
 * Training batches for `RetroMAEObjective`: each data batch collated with `collateRetroMAE`
 * (or `collateMLM`). M depends only on (seed, epoch, batch), so the position of `stream` is the
 * whole state; `restore` hands it back to the stream, which checks it.
 */
export class RetroMAEBatches<S> {
  constructor(
    private readonly stream: MaskedBatchStream<S>,
    private readonly options: RetroMAEBatchesOptions,
  ) {}

  next(): CollatedRetroMAEBatch | undefined {
    const batch = this.stream.next();
    if (!batch) return undefined;
    const { mlmOnly, decoderRatio, seed, maskSetSize } = this.options;
    return mlmOnly ? collateMLM(batch) : collateRetroMAE(batch, { decoderRatio, seed, maskSetSize });
  }

  state(): S {
    return this.stream.state();
  }

  /** `state` comes from a checkpoint's JSON; the stream validates it (BatchLoader checks its fingerprint). */
  restore(state: unknown): void {
    this.stream.restore(state as S);
  }
}

/**
 * Scalar losses of one RetroMAE step, each []: `loss` (back-propagated) = `encoderLoss` +
 * `decoderLoss`; in MLM-only mode just `loss` = `encoderLoss` (no `decoderLoss` key).
 */
export type RetroMAELosses = { loss: Tensor } & Record<string, Tensor>;

/**
 * RetroMAE pretraining as the trainer drives it: `losses(batch)` runs the model's forward and
 * keeps only the scalar losses; parameters, train mode and checkpoints are the model's.
 */
export class RetroMAEObjective {
  constructor(readonly model: RetroMAEForPretraining) {}

  /** Both losses of one collated batch ([B, L] ids, M [B, L, L]); see RetroMAEForPretraining.forward. */
  losses(batch: CollatedRetroMAEBatch): RetroMAELosses {
    const out = this.model.forward(batch);
    const losses: RetroMAELosses = { loss: out.loss, encoderLoss: out.encoderLoss };
    if (out.decoderLoss) losses.decoderLoss = out.decoderLoss;
    return losses;
  }

  namedParameters(): Array<[string, Tensor]> {
    return this.model.namedParameters();
  }

  train(mode?: boolean): this {
    this.model.train(mode);
    return this;
  }

  /** HF masked-LM checkpoint with c_head.* (see RetroMAEForPretraining.savePretrained). */
  savePretrained(dir: string): void {
    this.model.savePretrained(dir);
  }
}
