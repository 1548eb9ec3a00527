import type { CommandSpec } from '../args/spec.js';
import { BACKEND_OPTION, CONFIG_OPTION, PROGRESS_OPTION, STOP_AT_STEP_OPTION, checkpointOptions, optimizerOptions, type TrainingLoopCliOptions } from './common.js';

/** Options of `retro pretrain` after parsing (camelCase keys). */
export interface PretrainOptions extends TrainingLoopCliOptions {
  data: string;
  output: string;
  tokenizer?: string;
  modelConfig?: string;
  initFrom?: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  dropout: number;
  encoderMaskRatio: number;
  decoderMaskRatio: number;
  mlmOnly: boolean;
  batchSize: number;
  accumulation: number;
  totalSteps: number;
  seed: number;
  resume: boolean;
  extend: boolean;
  overwrite: boolean;
  verifyShards: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const pretrainCommand: CommandSpec = {
  name: 'pretrain',
  summary: 'RetroMAE pretraining (encoder MLM + enhanced decoder) on prepared shards',
  usage: 'retro pretrain --data DIR --output DIR [options]',
  description:
    'Trains a BERT encoder with the RetroMAE objective: the encoder sees a lightly masked sentence ' +
    '(--encoder-mask-ratio) and compresses it into its [CLS] vector; a one-layer enhanced decoder ' +
    'rebuilds the sentence from that vector under an aggressive mask (--decoder-mask-ratio). ' +
    'The loss is the sum of the encoder MLM loss and the decoder loss (--mlm-only: encoder loss only).' +
    '\n\n' +
    'Writes checkpoint-<step>/ directories (model, tokenizer, optimizer.safetensors, trainer_state.json) ' +
    'atomically into --output, plus metrics.jsonl and loss.svg. --resume continues from the newest ' +
    'complete checkpoint and reproduces an uninterrupted run exactly; --resume --extend --total-steps N ' +
    'continues a (finished) run to N steps with the schedule recomputed for N.',
  options: [
    CONFIG_OPTION,
    { name: 'data', type: 'path', required: true, short: 'd', placeholder: 'DIR', description: 'Shard directory written by `retro prepare`' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'DIR', description: 'Run directory: checkpoints, metrics.jsonl, loss.svg' },
    { name: 'tokenizer', type: 'path', description: 'Tokenizer file or directory copied into every checkpoint (default: the one recorded by prepare)' },
    { name: 'model-config', type: 'path', placeholder: 'FILE', description: 'HF-style config.json for the encoder; overrides the size options below' },
    { name: 'init-from', type: 'path', placeholder: 'DIR', description: 'Start from these pretrained weights instead of a random init' },
    { name: 'hidden-size', type: 'integer', default: 256, min: 8, max: 16384, description: 'Encoder hidden size H' },
    { name: 'num-layers', type: 'integer', default: 4, min: 1, max: 256, description: 'Encoder transformer layers' },
    { name: 'num-heads', type: 'integer', default: 4, min: 1, max: 1024, description: 'Attention heads (must divide --hidden-size)' },
    { name: 'intermediate-size', type: 'integer', default: 1024, min: 1, max: 65536, description: 'Feed-forward size' },
    { name: 'dropout', type: 'number', default: 0.1, min: 0, max: 0.9, description: 'Hidden and attention dropout' },
    { name: 'encoder-mask-ratio', type: 'number', default: 0.3, min: 0, exclusiveMin: true, max: 1, description: 'Share of tokens the encoder MLM masks' },
    { name: 'decoder-mask-ratio', type: 'number', default: 0.5, min: 0, exclusiveMin: true, max: 1, exclusiveMax: true, description: 'Share of tokens hidden from each decoder row' },
    { name: 'mlm-only', type: 'boolean', default: false, description: 'Plain MLM pretraining: no enhanced decoder' },
    { name: 'batch-size', type: 'integer', default: 32, min: 1, max: 65536, short: 'b', description: 'Sequences per micro-batch' },
    { name: 'accumulation', type: 'integer', default: 1, min: 1, max: 65536, description: 'Micro-batches per optimizer step (effective batch = batch-size x accumulation)' },
    { name: 'total-steps', type: 'integer', default: 1000, min: 1, max: 1e9, description: 'Optimizer steps in total (the schedule decays to 0 here)' },
    ...optimizerOptions(1e-4),
    ...checkpointOptions(3),
    { name: 'seed', type: 'integer', default: 42, min: 0, max: 4294967295, description: 'Seed of init, masks, dropout and data order (32-bit: larger seeds would collide)' },
    { name: 'resume', type: 'boolean', default: false, description: 'Continue from the newest complete checkpoint in --output (fresh start if none)' },
    { name: 'extend', type: 'boolean', default: false, description: 'With --resume: continue a run under a new --total-steps (e.g. extend a finished one); the schedule is recomputed for the new total and the change is printed and recorded' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Start over in an --output that already holds checkpoints (deletes them), or write into a non-empty --output that is no run folder' },
    STOP_AT_STEP_OPTION,
    PROGRESS_OPTION,
    { name: 'verify-shards', type: 'boolean', default: true, description: 'Check every shard against the sha256 in manifest.json before step 1 (--no-verify-shards: sizes and headers only)' },
    BACKEND_OPTION,
  ],
  examples: [
    'retro pretrain --data runs/shards --output runs/poetry --total-steps 2000 --batch-size 16',
    'retro pretrain --config pretrain.yaml --resume',
    'retro pretrain --config pretrain.yaml --resume --extend --total-steps 4000',
  ],
};

/**
 * The loop settings `train()` from @retro/train takes, derived from the options (everything but
 * the model, the batch source and the rng, which the wiring builds).
 */
export function trainSettings(options: PretrainOptions) {
  const warmupSteps = options.warmupSteps ?? Math.round(options.warmupRatio * options.totalSteps);
  if (warmupSteps > options.totalSteps) {
    throw new RangeError(`--warmup-steps (${warmupSteps}) exceeds --total-steps (${options.totalSteps})`);
  }
  return {
    outputDir: options.output,
    optimizer: { lr: options.lr, beta1: options.adamBeta1, beta2: options.adamBeta2, eps: options.adamEps, weightDecay: options.weightDecay },
    schedule: { kind: options.schedule, warmupSteps },
    totalSteps: options.totalSteps,
    clipNorm: options.clipNorm > 0 ? options.clipNorm : null,
    accumulation: options.accumulation,
    checkpointEvery: options.checkpointEvery,
    keepCheckpoints: options.keepCheckpoints,
    logEvery: options.logEvery,
    seed: options.seed,
    resume: options.resume,
    extend: options.extend,
    overwriteOutputDir: options.overwrite,
    stopAtStep: options.stopAtStep,
    progress: options.progress,
    tokenizerFiles: options.tokenizer ? [options.tokenizer] : undefined,
    config: { ...options } as Record<string, unknown>,
  };
}
