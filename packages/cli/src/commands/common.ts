import type { OptionSpec } from '../args/spec.js';

export const CONFIG_OPTION: OptionSpec = {
  name: 'config',
  type: 'path',
  placeholder: 'FILE',
  short: 'c',
  description: 'JSON or YAML file with any of the options below (flags win over the file)',
};

export const BACKEND_OPTION: OptionSpec = {
  name: 'backend',
  type: 'enum',
  choices: ['cpu', 'gpujs'],
  description: 'Tensor backend (default: $RETRO_BACKEND, else cpu). gpujs fails loudly if no GPU context can start',
};

export const POOLING_OPTION: OptionSpec = {
  name: 'pooling',
  type: 'enum',
  choices: ['cls', 'mean'],
  default: 'cls',
  description: 'Sentence vector: the [CLS] hidden state (RetroMAE) or the mean over real tokens',
};

export const NORMALIZE_OPTION: OptionSpec = {
  name: 'normalize',
  type: 'boolean',
  default: true,
  description: 'L2-normalise every vector',
};

/** embed / eval: the pooling the model folder was made for unless given. */
export const FOLDER_POOLING_OPTION: OptionSpec = {
  name: 'pooling',
  type: 'enum',
  choices: ['cls', 'mean'],
  description: 'Sentence vector: the [CLS] hidden state or the mean over real tokens (default: what the folder says: 1_Pooling/config.json, a fine-tune\'s best.json or trainer_state.json; else cls, as RetroMAE trains)',
};

/** Options of the training loop that `retro pretrain` and `retro finetune` share (camelCase keys). */
export interface TrainingLoopCliOptions {
  lr: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
  schedule: 'linear' | 'cosine' | 'constant';
  warmupSteps?: number;
  warmupRatio: number;
  clipNorm: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  logEvery: number;
  stopAtStep?: number;
  progress: boolean;
}

/** AdamW and the learning-rate schedule; `lr` is the command's default peak learning rate. */
export function optimizerOptions(lr: number): OptionSpec[] {
  return [
    { name: 'lr', type: 'number', default: lr, min: 0, description: 'Peak learning rate' },
    { name: 'weight-decay', type: 'number', default: 0.01, min: 0, description: 'AdamW decoupled weight decay (not applied to biases and LayerNorm)' },
    { name: 'adam-beta1', type: 'number', default: 0.9, min: 0, max: 0.999999, description: 'AdamW beta1' },
    { name: 'adam-beta2', type: 'number', default: 0.999, min: 0, max: 0.999999, description: 'AdamW beta2' },
    { name: 'adam-eps', type: 'number', default: 1e-8, min: 0, description: 'AdamW epsilon' },
    { name: 'schedule', type: 'enum', choices: ['linear', 'cosine', 'constant'], default: 'linear', description: 'Learning-rate schedule after warmup' },
    { name: 'warmup-steps', type: 'integer', min: 0, max: 1e9, description: 'Linear warmup steps (overrides --warmup-ratio)' },
    { name: 'warmup-ratio', type: 'number', default: 0.1, min: 0, max: 1, description: 'Warmup as a share of --total-steps' },
    { name: 'clip-norm', type: 'number', default: 1.0, min: 0, description: 'Clip the global gradient norm to this (0: no clipping)' },
  ];
}

/** Checkpoints and metrics; `keepCheckpoints` is the command's default. */
export function checkpointOptions(keepCheckpoints: number): OptionSpec[] {
  return [
    { name: 'checkpoint-every', type: 'integer', default: 500, min: 0, max: 1e9, description: 'Save a checkpoint every N steps (0: only at the end)' },
    { name: 'keep-checkpoints', type: 'integer', default: keepCheckpoints, min: 0, description: 'Keep the newest K checkpoints (0: keep all)' },
    { name: 'log-every', type: 'integer', default: 10, min: 1, max: 1e9, description: 'Write a metrics.jsonl line every N steps' },
  ];
}

export const STOP_AT_STEP_OPTION: OptionSpec = {
  name: 'stop-at-step',
  type: 'integer',
  min: 1,
  max: 1e9,
  description: 'Stop (with a checkpoint) at this step; resume later with --resume',
};

export const PROGRESS_OPTION: OptionSpec = { name: 'progress', type: 'boolean', default: true, description: 'Live progress on stderr' };
