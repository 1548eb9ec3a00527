import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scale, type Tensor } from '@retro/tensor';
import { cleanLeftovers, findLatestCheckpoint, loadParametersFromSafetensors, readCheckpoint, type LoadedCheckpoint } from './checkpoint/load.js';
import { listCheckpoints } from './checkpoint/layout.js';
import { deleteAllCheckpoints, pruneCheckpoints, saveCheckpoint, type SaveHooks } from './checkpoint/save.js';
import type { MetricsWindow, TrainerState } from './checkpoint/state.js';
import { clipGradNorm, globalGradNorm } from './clip.js';
import { TrainingDivergedError } from './errors.js';
import { MetricsLog, type MetricsRecord } from './metrics/metrics-log.js';
import { ProgressDisplay, type ProgressOptions } from './metrics/progress.js';
import type { BatchSource, TrainableModel } from './model.js';
import { AdamW, type AdamWConfig } from './optim/adamw.js';
import { TrainerRng } from './rng.js';
import { learningRateAt, validateSchedule, type ScheduleConfig, type ScheduleKind } from './schedule.js';

export interface TrainOptions<B> {
  model: TrainableModel;
  batches: BatchSource<B>;
  /** AdamW hyperparameters; `lr` is the peak the schedule scales. */
  optimizer: AdamWConfig;
  /** Default: linear decay, no warmup. */
  schedule?: { kind: ScheduleKind; warmupSteps?: number };
  /** Optimizer updates to run in total (counting those done before a resume). */
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
   * The run's generators. Build the model (rng.init, rng.dropout) and the batch source
   * (rng.masks, rng.data) from the same object so their states are saved and restored.
   */
  rng?: TrainerRng;
  /** true: continue from the newest complete checkpoint in outputDir (fresh start if none); a path: from that checkpoint. */
  resume?: boolean | string;
  /** Allow a fresh (non-resume) run in a directory that already holds checkpoints; they are deleted. */
  overwriteOutputDir?: boolean;
  /** Tokenizer files or directories copied into every checkpoint. */
  tokenizerFiles?: readonly string[];
  /** Tokens in a batch, for tokens/s. Default: see `defaultTokenCount`. */
  tokenCount?: (batch: B) => number;
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
  /** Scalar outputs of the model for this update (mean over its micro-batches). */
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
}

/**
 * Tokens in a batch when no `tokenCount` is given: the non-zero entries of an `attentionMask`
 * (or `attention_mask`) field that is a typed array or a Tensor; 0 when there is none.
 */
export function defaultTokenCount(batch: unknown): number {
  if (typeof batch !== 'object' || batch === null) return 0;
  const record = batch as Record<string, unknown>;
  const mask = record.attentionMask ?? record.attention_mask;
  const values: ArrayLike<number> | undefined =
    mask && typeof (mask as Tensor).dataSync === 'function' ? (mask as Tensor).dataSync() : ArrayBuffer.isView(mask) ? (mask as unknown as ArrayLike<number>) : undefined;
  if (!values) return 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) count++;
  return count;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`train: option '${name}' must be an integer >= ${min}, got ${value}`);
}

function emptyWindow(startElapsed: number): MetricsWindow {
  return { steps: 0, sums: {}, tokens: 0, startElapsed };
}

/** Fields that fix the trajectory; a resume with different values could not reproduce the run. */
function trajectoryMismatch(state: TrainerState, schedule: ScheduleConfig, accumulation: number, seed: number): string | undefined {
  const pairs: Array<[string, unknown, unknown]> = [
    ['totalSteps', state.totalSteps, schedule.totalSteps],
    ['accumulation', state.accumulation, accumulation],
    ['schedule.kind', state.schedule.kind, schedule.kind],
    ['schedule.warmupSteps', state.schedule.warmupSteps, schedule.warmupSteps],
    ['optimizer.lr', state.schedule.lr, schedule.lr],
    ['seed', (state.config as { seed?: number }).seed, seed],
  ];
  const bad = pairs.find(([, saved, now]) => saved !== now);
  return bad ? `${bad[0]} is ${JSON.stringify(bad[2])} but the checkpoint was made with ${JSON.stringify(bad[1])}` : undefined;
}

/**
 * Runs (or resumes) pretraining: per update, `accumulation` micro-batches of forward + backward
 * (loss / accumulation), NaN/Inf checks, global-norm clipping, AdamW at the scheduled lr; metrics
 * every `logEvery`, atomic checkpoints every `checkpointEvery` (keeping the newest
 * `keepCheckpoints`) and at the end. A resumed run continues with bit-identical losses and
 * parameters to an uninterrupted one. Throws TrainingDivergedError on a non-finite loss/gradient
 * (nothing is saved for that step).
 */
export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const { model, batches, outputDir, seed } = options;
  const totalSteps = options.totalSteps;
  const accumulation = options.accumulation ?? 1;
  const clipNorm = options.clipNorm === undefined ? 1.0 : options.clipNorm;
  const checkpointEvery = options.checkpointEvery ?? 500;
  const keepCheckpoints = options.keepCheckpoints ?? 3;
  const logEvery = options.logEvery ?? 10;
  requireInteger('totalSteps', totalSteps, 1);
  requireInteger('accumulation', accumulation, 1);
  requireInteger('checkpointEvery', checkpointEvery, 0);
  requireInteger('keepCheckpoints', keepCheckpoints, 0);
  requireInteger('logEvery', logEvery, 1);
  requireInteger('seed', seed, 0);
  const stopAtStep = options.stopAtStep ?? totalSteps;
  requireInteger('stopAtStep', stopAtStep, 1);
  if (clipNorm !== null && !(clipNorm >= 0)) throw new Error(`train: option 'clipNorm' must be >= 0 or null, got ${clipNorm}`);
  const schedule: ScheduleConfig = {
    kind: options.schedule?.kind ?? 'linear',
    lr: options.optimizer.lr,
    warmupSteps: options.schedule?.warmupSteps ?? 0,
    totalSteps,
  };
  validateSchedule(schedule);
  const rng = options.rng ?? new TrainerRng(seed);
  if (rng.seed !== seed) throw new Error(`train: option 'seed' is ${seed} but the rng given was made with seed ${rng.seed}`);
  for (const path of options.tokenizerFiles ?? []) {
    if (!existsSync(path)) throw new Error(`train: tokenizer file '${path}' does not exist`);
  }
  const tokenCount = options.tokenCount ?? defaultTokenCount;

  mkdirSync(outputDir, { recursive: true });
  cleanLeftovers(outputDir);

  const namedParameters = model.namedParameters();
  const params = namedParameters.map(([, tensor]) => tensor);
  const optimizer = new AdamW(namedParameters, options.optimizer);
  const runConfig: Record<string, unknown> = {
    ...(options.config ?? {}),
    seed,
    totalSteps,
    accumulation,
    clipNorm,
    checkpointEvery,
    keepCheckpoints,
    logEvery,
    schedule: { kind: schedule.kind, warmupSteps: schedule.warmupSteps },
    optimizer: { lr: optimizer.lr, beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, weightDecay: options.optimizer.weightDecay ?? 0 },
  };

  // ---- where to start -------------------------------------------------------------------
  let resumed: LoadedCheckpoint | undefined;
  if (typeof options.resume === 'string') {
    if (!existsSync(options.resume) || !statSync(options.resume).isDirectory()) throw new Error(`train: resume checkpoint '${options.resume}' is not a directory`);
    resumed = readCheckpoint(options.resume);
  } else if (options.resume) {
    resumed = findLatestCheckpoint(outputDir);
  }
  const progress = options.progress === false ? undefined : new ProgressDisplay(totalSteps, options.progress === true || options.progress === undefined ? {} : options.progress);

  if (!resumed) {
    const existing = listCheckpoints(outputDir);
    if (existing.length > 0 && options.resume === true) {
      // Directories under checkpoint names exist but none parses: starting over would mix two runs.
      throw new Error(`train: resume found ${existing.map(({ dir }) => dir).join(', ')} but none has a readable trainer_state.json and optimizer.safetensors`);
    }
    if (existing.length > 0 && !options.resume) {
      if (!options.overwriteOutputDir) {
        throw new Error(
          `train: outputDir '${outputDir}' already holds ${existing.map(({ dir }) => dir.slice(outputDir.length + 1)).join(', ')}; ` +
            `pass resume to continue that run or overwriteOutputDir to start over (deletes them)`,
        );
      }
      deleteAllCheckpoints(outputDir);
    }
    if (options.resume === true) progress?.note(`train: no checkpoint in ${outputDir}; starting from step 0`);
  }

  let step = 0;
  let batchesConsumed = 0;
  let elapsedBefore = 0;
  let tokensSeen = 0;
  let lastLosses: Record<string, number> = {};
  let lastGradNorm = Number.NaN;
  let bestLoss: { step: number; value: number } | null = null;
  let window = emptyWindow(0);
  if (resumed) {
    const mismatch = trajectoryMismatch(resumed.state, schedule, accumulation, seed);
    if (mismatch) throw new Error(`train: cannot resume from ${resumed.dir}: ${mismatch}`);
    if (model.loadPretrained) await model.loadPretrained(resumed.dir);
    else loadParametersFromSafetensors(namedParameters, join(resumed.dir, 'model.safetensors'));
    optimizer.loadStateDict(resumed.optimizer, resumed.dir);
    rng.setState(resumed.state.rng, join(resumed.dir, 'trainer_state.json'));
    batches.restore(resumed.state.dataLoader);
    step = resumed.state.step;
    batchesConsumed = resumed.state.batchesConsumed;
    elapsedBefore = resumed.state.metrics.elapsedSeconds;
    tokensSeen = resumed.state.metrics.tokensSeen;
    lastLosses = resumed.state.metrics.lastLosses;
    lastGradNorm = resumed.state.metrics.lastGradNorm;
    bestLoss = resumed.state.metrics.bestLoss;
    window = resumed.state.metrics.window;
    progress?.note(`train: resumed from ${resumed.dir} at step ${step}/${totalSteps}`);
  }

  const metrics = new MetricsLog(outputDir, { keepUpToStep: step });
  const startedAt = performance.now();
  const secondsThisRun = (): number => (performance.now() - startedAt) / 1000;
  const elapsed = (): number => elapsedBefore + secondsThisRun();
  const startStep = step;
  let lastCheckpoint = resumed?.dir;
  let lastSavedStep = resumed ? step : -1;
  let lr = schedule.lr;
  let stoppedBecause: TrainResult['stoppedBecause'] = 'totalSteps';

  const save = async (): Promise<void> => {
    const optimizerState = optimizer.stateDict();
    const state: TrainerState = {
      format: 'retro-trainer-state',
      version: 1,
      step,
      totalSteps,
      accumulation,
      batchesConsumed,
      schedule,
      lr,
      rng: rng.getState(),
      dataLoader: batches.state(),
      optimizer: { beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, groups: optimizer.groups, steps: optimizerState.steps },
      metrics: { elapsedSeconds: elapsed(), tokensSeen, lastLosses, lastGradNorm, bestLoss, window },
      config: runConfig,
      savedAt: new Date().toISOString(),
    };
    lastCheckpoint = await saveCheckpoint(
      outputDir,
      { writeModel: (dir) => model.savePretrained(dir), tokenizerFiles: options.tokenizerFiles, optimizerTensors: optimizerState.tensors, state },
      options.hooks,
    );
    lastSavedStep = step;
    pruneCheckpoints(outputDir, keepCheckpoints, step);
    metrics.writePlot();
  };

  model.train(true);
  try {
    while (step < Math.min(totalSteps, stopAtStep)) {
      const updateIndex = step + 1;
      lr = learningRateAt(schedule, step);
      optimizer.zeroGrad();
      const sums: Record<string, number> = {};
      let tokens = 0;
      let micro = 0;
      for (; micro < accumulation; micro++) {
        const batch = batches.next();
        if (batch === undefined) break;
        const batchIndex = batchesConsumed;
        batchesConsumed++;
        tokens += tokenCount(batch);
        const outputs = model.forward(batch);
        if (!outputs?.loss || outputs.loss.size !== 1) {
          throw new Error(`train: model.forward must return { loss: <one-element Tensor>, ... }, got loss ${outputs?.loss ? `of shape [${outputs.loss.shape.join(', ')}]` : 'missing'}`);
        }
        for (const [key, value] of Object.entries(outputs)) {
          if (value.size !== 1) continue;
          const scalar = value.item();
          if (!Number.isFinite(scalar)) {
            throw new TrainingDivergedError({ step: updateIndex, microBatch: micro, batchIndex, quantity: 'loss', name: key, value: scalar });
          }
          sums[key] = (sums[key] ?? 0) + scalar;
        }
        (accumulation === 1 ? outputs.loss : scale(outputs.loss, 1 / accumulation)).backward();
        const norm = globalGradNorm(params);
        if (!Number.isFinite(norm)) {
          const culprit = namedParameters.find(([, tensor]) => tensor.grad && !Number.isFinite(globalGradNorm([tensor])));
          throw new TrainingDivergedError({ step: updateIndex, microBatch: micro, batchIndex, quantity: 'gradient', name: culprit?.[0] ?? '?', value: norm });
        }
      }
      if (micro < accumulation) {
        // The data ran out; a partial update would weigh its batches differently, so it is dropped.
        stoppedBecause = 'dataExhausted';
        progress?.note(`train: data exhausted after ${batchesConsumed} batches; stopping at step ${step}`);
        break;
      }
      const gradNorm = clipNorm ? clipGradNorm(params, clipNorm) : globalGradNorm(params);
      optimizer.step(lr);
      step = updateIndex;

      const losses: Record<string, number> = {};
      for (const [key, sum] of Object.entries(sums)) losses[key] = sum / accumulation;
      lastLosses = losses;
      lastGradNorm = gradNorm;
      tokensSeen += tokens;
      if (bestLoss === null || losses.loss < bestLoss.value) bestLoss = { step, value: losses.loss };
      window.steps += 1;
      window.tokens += tokens;
      for (const [key, value] of Object.entries(losses)) window.sums[key] = (window.sums[key] ?? 0) + value;

      await options.onStep?.({ step, totalSteps, losses, lr, gradNorm, tokens, batchesConsumed });

      if (step % logEvery === 0 || step === totalSteps) {
        const now = elapsed();
        const seconds = now - window.startElapsed;
        // Insertion order is the documented key order: step, losses..., lr, gradNorm, tokensPerSecond, elapsed.
        const record: Record<string, number> = { step, loss: window.sums.loss / window.steps };
        for (const [key, sum] of Object.entries(window.sums)) if (key !== 'loss') record[key] = sum / window.steps;
        Object.assign(record, { lr, gradNorm, tokensPerSecond: seconds > 0 ? window.tokens / seconds : 0, elapsed: now });
        metrics.append(record as MetricsRecord);
        window = emptyWindow(now);
      }
      progress?.update({
        step,
        loss: losses.loss,
        tokensPerSecond: (tokensSeen - (resumed?.state.metrics.tokensSeen ?? 0)) / Math.max(1e-9, secondsThisRun()),
        secondsThisRun: secondsThisRun(),
        stepsThisRun: step - startStep,
      });
      if (checkpointEvery > 0 && step % checkpointEvery === 0) await save();
    }
    if (step === stopAtStep && step < totalSteps) stoppedBecause = 'stopAtStep';
    if (step > 0 && step !== lastSavedStep) await save();
  } finally {
    progress?.finish();
    if (metrics.all().length > 0) metrics.writePlot();
  }
  return { step, stoppedBecause, lastCheckpoint, resumedFrom: resumed?.dir, lastLosses, elapsedSeconds: elapsed(), tokensSeen };
}
