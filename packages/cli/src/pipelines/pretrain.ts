import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { BatchLoader, ShardDataset, specialIdsOf } from '@retro/data';
import { loadConfig } from '@retro/bert';
import { RetroMAEBatches, RetroMAEForPretraining, RetroMAEObjective } from '@retro/enhanced-decoder';
import { TrainerRng, train, type TrainResult } from '@retro/train';
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

/**
 * `retro pretrain`: shards -> RetroMAE (or MLM-only) pretraining with resumable checkpoints.
 * Seeds: the model's init from --seed; dropout from the trainer's saved 'dropout' stream;
 * data order, encoder masks and M from (seed, epoch, batch) so a resume needs no extra state.
 */
export async function runPretrain(options: PretrainOptions, settings: Settings): Promise<TrainResult> {
  const dataset = ShardDataset.open(options.data, { verify: options.verifyShards ?? true, progress: options.progress, requireChunks: true });
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
  const batches = new RetroMAEBatches(loader, { mlmOnly: options.mlmOnly, decoderRatio: options.decoderMaskRatio, seed: options.seed });
  return train({ ...settings, model: new RetroMAEObjective(model), batches, rng, tokenizerFiles: files });
}
