import { Generator, deriveSeed, tensor, type Tensor } from '@retro/tensor';
import { sampleDecoderMask } from './mask-m.js';
import type { RetroMAEBatch } from './model.js';

/** What the collator needs of a data batch (the shape @retro/data's BatchLoader yields). Arrays [B, L]. */
export interface MaskedDataBatch {
  shape: readonly [number, number] | readonly number[];
  /** Original ids, padded. */
  inputIds: Int32Array;
  attentionMask: ArrayLike<number>;
  /** 1 where a token starts a word (whole-word grouping for M). */
  wordStarts?: ArrayLike<number>;
  /** Real lengths incl. specials, [B]. */
  lengths: ArrayLike<number>;
  encoderInputIds?: Int32Array;
  encoderLabels?: Int32Array;
  epoch?: number;
  batchInEpoch?: number;
}

export interface DecoderCollatorOptions {
  /** Share of each row's tokens hidden in M (paper: 0.5; typical 0.5-0.7). */
  decoderRatio: number;
  /** Seed of M; mixed with the batch's (epoch, batchInEpoch) so a resumed run samples the same M. */
  seed: number;
  /** Hidden sets per sequence that rows pick from (official collator: min(n, 128)). */
  maskSetSize?: number;
}

/** A collated batch as training consumes it: the model's fields, its shape [B, L] and its real-token count. */
export interface CollatedRetroMAEBatch extends RetroMAEBatch {
  shape: [number, number];
  /** Real (non-padding) tokens: the sum of the rows' lengths, for tokens/s. */
  tokens: number;
}

function requireEncoderMasking(batch: MaskedDataBatch, who: string): asserts batch is MaskedDataBatch & { encoderInputIds: Int32Array; encoderLabels: Int32Array } {
  if (!batch.encoderInputIds || !batch.encoderLabels) {
    throw new Error(`${who}: the batch has no encoderInputIds/encoderLabels; enable encoder masking in the loader`);
  }
}

function tokensOf(batch: MaskedDataBatch): number {
  let tokens = 0;
  for (let b = 0; b < batch.lengths.length; b++) tokens += batch.lengths[b];
  return tokens;
}

/**
 * The encoder's fields only, for MLM-only training (no decoder mask to sample): masked ids,
 * attention mask and labels, each [B, L].
 */
export function collateMLM(batch: MaskedDataBatch): CollatedRetroMAEBatch {
  const [B, L] = batch.shape;
  requireEncoderMasking(batch, 'collateMLM');
  return {
    shape: [B, L],
    tokens: tokensOf(batch),
    encoderInputIds: reshape2d(batch.encoderInputIds, B, L),
    encoderAttentionMask: reshape2d(Int32Array.from(batch.attentionMask), B, L),
    encoderLabels: reshape2d(batch.encoderLabels, B, L),
  };
}

/**
 * Adds the decoder's fields to an encoder-masked batch: decoderInputIds = the original ids,
 * decoderLabels = original ids with -100 at position 0, at the last real token and at padding,
 * and the mask M [B, L, L] sampled over whole words.
 */
export function collateRetroMAE(batch: MaskedDataBatch, options: DecoderCollatorOptions): CollatedRetroMAEBatch {
  const [B, L] = batch.shape;
  requireEncoderMasking(batch, 'collateRetroMAE');
  const decoderLabels = new Int32Array(B * L).fill(-100);
  for (let b = 0; b < B; b++) {
    const n = batch.lengths[b];
    for (let i = 1; i < n - 1; i++) decoderLabels[b * L + i] = batch.inputIds[b * L + i];
  }
  // One generator per (seed, epoch, batch): M needs no generator state to resume.
  const generator = new Generator(deriveSeed(options.seed, 'decoder-mask', batch.epoch ?? 0, batch.batchInEpoch ?? 0));
  const decoderAttentionMask = sampleDecoderMask({
    lengths: batch.lengths,
    seqLen: L,
    ratio: options.decoderRatio,
    generator,
    wordStarts: batch.wordStarts,
    maskSetSize: options.maskSetSize,
  });
  return {
    ...collateMLM(batch),
    decoderInputIds: reshape2d(batch.inputIds, B, L),
    decoderAttentionMask: tensor(Int32Array.from(decoderAttentionMask), [B, L, L]),
    decoderLabels: reshape2d(decoderLabels, B, L),
  };
}

function reshape2d(data: Int32Array, B: number, L: number): Tensor {
  return tensor(data, [B, L]);
}
