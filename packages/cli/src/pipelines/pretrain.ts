import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { BatchLoader, ShardDataset, specialIdsOf, type Batch } from '@retro/data';
import { loadConfig } from '@retro/bert';
import { RetroMAEForPretraining, collateRetroMAE, type RetroMAEBatch } from '@retro/enhanced-decoder';
import { TrainerRng, train, type BatchSource, type TrainResult } from '@retro/train';
import { tensor } from '@retro/tensor';
import type { PretrainOptions, trainSettings } from '../commands/pretrain.js';
import { loadTokenizer } from './tokenizer.js';

type Settings = ReturnType<typeof trainSettings>;

/** The tokenizer the shards were made with: --tokenizer, else the files prepare recorded. */
function tokenizerPathOf(options: PretrainOptions, dataset: ShardDataset): string {
  if (options.tokenizer) return options.tokenizer;
  const recorded = (dataset.manifest.tokenizer as { files?: Array<string | { path: string }> }).files ?? [];
  const first = recorded.map((f) => (typeof f === 'string' ? f : f.path)).find((f) => existsSync(f));
  if (!first) throw new Error(`retro pretrain: ${join(options.data, 'manifest.json')} records no tokenizer file that exists here; pass --tokenizer`);
  return first;
}

/** Encoder-only batch for --mlm-only (no decoder mask to sample). */
function encoderBatch(batch: Batch): RetroMAEBatch {
  const [B, L] = batch.shape;
  return {
    encoderInputIds: tensor(batch.encoderInputIds!, [B, L]),
    encoderAttentionMask: tensor(Int32Array.from(batch.attentionMask), [B, L]),
    encoderLabels: tensor(batch.encoderLabels!, [B, L]),
  };
}

/**
 * `retro pretrain`: shards -> RetroMAE (or MLM-only) pretraining with resumable checkpoints.
 * Seeds: the model's init from --seed; dropout from the trainer's saved 'dropout' stream;
 * data order, encoder masks and M from (seed, epoch, batch) so a resume needs no extra state.
 */
export async function runPretrain(options: PretrainOptions, settings: Settings): Promise<TrainResult> {
  const dataset = ShardDataset.open(options.data);
  const tokenizerPath = tokenizerPathOf(options, dataset);
  const { tokenizer, files } = await loadTokenizer(tokenizerPath);
  const maxLength = dataset.manifest.config?.maxSeqLength ?? 128;
  const rng = new TrainerRng(options.seed);

  let model: RetroMAEForPretraining;
  if (options.initFrom) {
    model = RetroMAEForPretraining.fromPretrained(options.initFrom, { seed: options.seed, mlmOnly: options.mlmOnly });
  } else {
    const base = options.modelConfig ? loadConfig(options.modelConfig) : null;
    const config = base ?? {
      modelType: 'bert' as const,
      vocabSize: tokenizer.vocabSize,
      hiddenSize: options.hiddenSize,
      numHiddenLayers: options.numLayers,
      numAttentionHeads: options.numHeads,
      intermediateSize: options.intermediateSize,
      hiddenDropoutProb: options.dropout,
      attentionProbsDropoutProb: options.dropout,
      maxPositionEmbeddings: Math.max(maxLength, 128),
      padTokenId: tokenizer.padTokenId,
    };
    model = RetroMAEForPretraining.fromConfig(config, { seed: options.seed, mlmOnly: options.mlmOnly });
  }
  if (model.encoder.config.vocabSize < tokenizer.vocabSize) {
    throw new Error(`retro pretrain: the model's vocab_size ${model.encoder.config.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} (${tokenizerPath})`);
  }
  model.encoder.generator = rng.dropout;

  const loader = new BatchLoader(dataset, {
    batchSize: options.batchSize,
    seed: options.seed,
    epochs: Infinity,
    padTokenId: tokenizer.padTokenId,
    encoderMasking: {
      ratio: options.encoderMaskRatio,
      maskTokenId: tokenizer.maskTokenId,
      vocabSize: tokenizer.vocabSize,
      specialIds: specialIdsOf(tokenizer),
    },
  });
  const batches: BatchSource<RetroMAEBatch & { tokens: number }> = {
    next() {
      const batch = loader.next();
      if (!batch) return undefined;
      let tokens = 0;
      for (let b = 0; b < batch.lengths.length; b++) tokens += batch.lengths[b];
      const collated = options.mlmOnly ? encoderBatch(batch) : collateRetroMAE(batch, { decoderRatio: options.decoderMaskRatio, seed: options.seed });
      return { ...collated, tokens };
    },
    state: () => loader.state(),
    restore: (state) => loader.restore(state as ReturnType<typeof loader.state>),
  };
  return train({
    ...settings,
    model: trainableView(model),
    batches,
    rng,
    tokenizerFiles: files,
    tokenCount: (batch) => batch.tokens,
  });
}

/** The trainer's view of the model (forward takes the collated batch). */
function trainableView(model: RetroMAEForPretraining) {
  return {
    forward: (batch: RetroMAEBatch) => {
      const out = model.forward(batch);
      const losses: Record<string, import('@retro/tensor').Tensor> = { loss: out.loss, encoderLoss: out.encoderLoss };
      if (out.decoderLoss) losses.decoderLoss = out.decoderLoss;
      return losses as { loss: import('@retro/tensor').Tensor };
    },
    namedParameters: () => model.namedParameters(),
    train: (mode?: boolean) => model.train(mode),
    savePretrained: (dir: string) => model.savePretrained(dir),
  };
}
