import { getBackend, readTensors } from '@retro/tensor';
import { pruneCheckpoints, saveCheckpoint } from '../checkpoint/save.js';
import type { TrainerState } from '../checkpoint/state.js';
import type { BatchSource, CountedBatch, Trainable } from '../objective.js';
import type { AdamW } from '../optim/adamw.js';
import type { TrainerRng } from '../rng.js';
import type { ScheduleConfig } from '../schedule.js';
import type { RunLog } from './log.js';
import type { LoopSettings, TrainOptions } from './options.js';

export interface RunParts<B extends CountedBatch> {
  options: TrainOptions<B>;
  settings: LoopSettings;
  schedule: ScheduleConfig;
  optimizer: AdamW;
  rng: TrainerRng;
  log: RunLog;
  /** Recorded as trainer_state.json's config. */
  runConfig: Record<string, unknown>;
}

/** Progress of the run at the moment of saving. */
export interface RunPosition {
  step: number;
  batchesConsumed: number;
  /** Learning rate of the last update. */
  lr: number;
}

/**
 * Writes checkpoint-<step>/ atomically (model files, tokenizer, optimizer moments, and
 * trainer_state.json with everything else resume needs), prunes to the newest `keepCheckpoints`,
 * and redraws loss.svg. Returns the checkpoint directory.
 */
export async function checkpointRun<B extends CountedBatch>(parts: RunParts<B>, position: RunPosition): Promise<string> {
  const { options, settings, schedule, optimizer, rng, log } = parts;
  // One transfer from an asynchronous device (WebGPU): afterwards the parameters and moments read
  // synchronously from their host copies, for stateDict() and savePretrained().
  if (getBackend().asyncReads) await readTensors([...options.model.namedParameters().map(([, tensor]) => tensor), ...optimizer.stateTensors()]);
  const optimizerState = optimizer.stateDict();
  const batches: BatchSource<B> = options.batches;
  const model: Trainable<B> = options.model;
  const state: TrainerState = {
    format: 'retro-trainer-state',
    version: 1,
    step: position.step,
    totalSteps: settings.totalSteps,
    accumulation: settings.accumulation,
    batchesConsumed: position.batchesConsumed,
    schedule,
    lr: position.lr,
    rng: rng.getState(),
    dataLoader: batches.state(),
    optimizer: { beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, groups: optimizer.groups, steps: optimizerState.steps },
    metrics: log.saved(),
    config: parts.runConfig,
    savedAt: new Date().toISOString(),
  };
  const dir = await saveCheckpoint(
    options.outputDir,
    { writeModel: (target) => model.savePretrained(target), tokenizerFiles: options.tokenizerFiles, optimizerTensors: optimizerState.tensors, state },
    options.hooks,
  );
  pruneCheckpoints(options.outputDir, settings.keepCheckpoints, position.step);
  log.writePlot();
  return dir;
}
