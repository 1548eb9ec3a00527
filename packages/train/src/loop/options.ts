import { existsSync } from 'node:fs';
import type { SaveHooks } from '../checkpoint/save.js';
import type { ProgressOptions } from '../metrics/progress.js';
import type { BatchSource, CountedBatch, Trainable } from '../objective.js';
import type { AdamWConfig } from '../optim/adamw.js';
import type { TrainerRng } from '../rng.js';
import type { ScheduleKind } from '../schedule.js';

export interface TrainOptions<B extends CountedBatch> {
  model: Trainable<B>;
  batches: BatchSource<B>;
  /** AdamW hyperparameters; `lr` is the peak the schedule scales. */
  optimizer: AdamWConfig;
  /**
   * Default: linear decay, no warmup. On a resume with a new totalSteps (`extend`) an unset
   * `warmupSteps` keeps the checkpoint's warmup.
   */
  schedule?: { kind: ScheduleKind; warmupSteps?: number };
  /**
   * Optimizer updates to run in total (counting those done before a resume). A resume with
   * another value needs `extend`.
   */
  totalSteps: number;
  /** Max global gradient norm (torch clip_grad_norm_); null or 0 = no clipping. Default 1.0 (HF). */
  clipNorm?: number | null;
  /** Micro-batches per optimizer update; each loss is scaled by 1/accumulation. Default 1. */
  accumulation?: number;
  /** Checkpoints, metrics.jsonl and loss.svg go here. */
  outputDir: string;
  /** Save every this many updates (and always at the end); 0 = only at the end. Default 500. */
  checkpointEvery?: number;
  /** Keep the newest K checkpoints; 0 = all. Default 3. */
  keepCheckpoints?: number;
  /** A metrics line every this many updates (and at the end). Default 10. */
  logEvery?: number;
  /** Run seed; must equal `rng.seed` when an `rng` is given. */
  seed: number;
  /**
   * The run's stateful generators (rng.dropout, plus any stream(name)); give the model and batch source the
   * same object so their states are saved and restored.
   */
  rng?: TrainerRng;
  /**
   * On the cpu backend, step temporaries (activations, gradients, kernel scratch) that an update's
   * scopes free are recycled as the next kernels' outputs instead of fresh arrays (@retro/tensor
   * `setCpuBufferRecycling`; 8-15 % faster base steps in session 11's measurements). Default true;
   * false leaves every array to GC, as before. The setting is restored when `train` returns.
   */
  recycleCpuBuffers?: boolean;
  /** true: continue from the newest complete checkpoint in outputDir (fresh start if none); a path: from that checkpoint. */
  resume?: boolean | string;
  /**
   * Allow a resume with a different totalSteps (e.g. extending a finished run). The schedule is
   * recomputed for the new total (kind and peak lr as before; warmup as before unless
   * `schedule.warmupSteps` says otherwise), noted on the progress stream and recorded in
   * trainer_state.json's config.scheduleChanges. Without it such a resume is refused.
   */
  extend?: boolean;
  /** Allow a fresh (non-resume) run in a directory that already holds checkpoints; they are deleted. */
  overwriteOutputDir?: boolean;
  /** Tokenizer files or directories copied into every checkpoint. */
  tokenizerFiles?: readonly string[];
  /**
   * Stop (with a checkpoint) once this step is reached, as if the job's time slice ran out;
   * a later call with `resume` continues. The schedule still follows `totalSteps`.
   */
  stopAtStep?: number;
  /** Called after every optimizer update. */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Recorded verbatim in trainer_state.json (JSON-safe). */
  config?: Record<string, unknown>;
  /** Live progress on stderr (default), a custom stream, or false. */
  progress?: boolean | ProgressOptions;
  /** Test seams. */
  hooks?: SaveHooks;
}

export interface StepInfo {
  step: number;
  totalSteps: number;
  /** Scalar losses of this update (mean over its micro-batches). */
  losses: Record<string, number>;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokens: number;
  batchesConsumed: number;
}

export interface TrainResult {
  step: number;
  stoppedBecause: 'totalSteps' | 'dataExhausted' | 'stopAtStep';
  /** The last checkpoint written (or resumed from), if any. */
  lastCheckpoint: string | undefined;
  resumedFrom: string | undefined;
  lastLosses: Record<string, number>;
  elapsedSeconds: number;
  tokensSeen: number;
  /** Set when this call extended a resumed run to a new totalSteps (see `ScheduleExtension`). */
  extended?: ScheduleExtension;
}

/** What a resume with a new totalSteps changed, as stated in the run's notes and trainer_state.json. */
export interface ScheduleExtension {
  atStep: number;
  fromTotalSteps: number;
  toTotalSteps: number;
  fromWarmupSteps: number;
  toWarmupSteps: number;
  /** Learning rate the next update would have used under the old schedule, and uses under the new one. */
  lrBefore: number;
  lrAfter: number;
}

/** The loop's settings with defaults applied and checked; the schedule's warmup is settled at resume. */
export interface LoopSettings {
  totalSteps: number;
  accumulation: number;
  clipNorm: number | null;
  checkpointEvery: number;
  keepCheckpoints: number;
  logEvery: number;
  seed: number;
  stopAtStep: number;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`train: option '${name}' must be an integer >= ${min}, got ${value}`);
}

/** Applies the documented defaults and rejects bad values, naming the option. */
export function resolveLoopSettings<B extends CountedBatch>(options: TrainOptions<B>): LoopSettings {
  const settings: LoopSettings = {
    totalSteps: options.totalSteps,
    accumulation: options.accumulation ?? 1,
    clipNorm: options.clipNorm === undefined ? 1.0 : options.clipNorm,
    checkpointEvery: options.checkpointEvery ?? 500,
    keepCheckpoints: options.keepCheckpoints ?? 3,
    logEvery: options.logEvery ?? 10,
    seed: options.seed,
    stopAtStep: options.stopAtStep ?? options.totalSteps,
  };
  requireInteger('totalSteps', settings.totalSteps, 1);
  requireInteger('accumulation', settings.accumulation, 1);
  requireInteger('checkpointEvery', settings.checkpointEvery, 0);
  requireInteger('keepCheckpoints', settings.keepCheckpoints, 0);
  requireInteger('logEvery', settings.logEvery, 1);
  requireInteger('seed', settings.seed, 0);
  requireInteger('stopAtStep', settings.stopAtStep, 1);
  if (settings.clipNorm !== null && !(settings.clipNorm >= 0)) throw new Error(`train: option 'clipNorm' must be >= 0 or null, got ${settings.clipNorm}`);
  if (options.recycleCpuBuffers !== undefined && typeof options.recycleCpuBuffers !== 'boolean') {
    throw new Error(`train: option 'recycleCpuBuffers' must be true or false, got ${JSON.stringify(options.recycleCpuBuffers)}`);
  }
  for (const path of options.tokenizerFiles ?? []) {
    if (!existsSync(path)) throw new Error(`train: tokenizer file '${path}' does not exist`);
  }
  return settings;
}
