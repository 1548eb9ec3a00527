import { cpuBufferRecycling, setCpuBufferRecycling } from '@retro/tensor';
import { ProgressDisplay } from '../metrics/progress.js';
import type { CountedBatch } from '../objective.js';
import { AdamW } from '../optim/adamw.js';
import { TrainerRng } from '../rng.js';
import { learningRateAt } from '../schedule.js';
import { checkpointRun, type RunParts } from './checkpoint.js';
import { RunLog } from './log.js';
import { resolveLoopSettings, type TrainOptions, type TrainResult } from './options.js';
import { startRun } from './resume.js';
import { runUpdate } from './step.js';

/**
 * Runs (or resumes) training, reading as its four pieces: `startRun` (resume.ts: restore a
 * checkpoint or start fresh), `runUpdate` (step.ts: micro-batches, backward, clip, AdamW),
 * `RunLog` (log.ts: running figures, metrics lines, progress) and `checkpointRun` (checkpoint.ts:
 * atomic checkpoints every `checkpointEvery` and at the end). A resumed run continues with
 * bit-identical losses and parameters to an uninterrupted one. Throws TrainingDivergedError on
 * a non-finite loss/gradient (nothing is saved for that step).
 */
export async function train<B extends CountedBatch>(options: TrainOptions<B>): Promise<TrainResult> {
  const settings = resolveLoopSettings(options);
  const { model, batches } = options;
  const { seed, totalSteps } = settings;
  const rng = options.rng ?? new TrainerRng(seed);
  if (rng.seed !== seed) throw new Error(`train: option 'seed' is ${seed} but the rng given was made with seed ${rng.seed}`);
  const namedParameters = model.namedParameters();
  const params = namedParameters.map(([, tensor]) => tensor);
  const optimizer = new AdamW(namedParameters, options.optimizer);
  const progressOptions = options.progress === true || options.progress === undefined ? {} : options.progress;
  const progress = progressOptions === false ? undefined : new ProgressDisplay(totalSteps, progressOptions);

  const start = await startRun(options, settings, { namedParameters, optimizer, rng, progress });
  const { schedule, resumed } = start;
  let step = resumed?.step ?? 0;
  let batchesConsumed = resumed?.state.batchesConsumed ?? 0;
  const log = new RunLog(options.outputDir, step, resumed?.state.metrics, { logEvery: settings.logEvery, totalSteps, progress });
  const runConfig: Record<string, unknown> = {
    ...(options.config ?? {}),
    seed,
    totalSteps,
    accumulation: settings.accumulation,
    clipNorm: settings.clipNorm,
    checkpointEvery: settings.checkpointEvery,
    keepCheckpoints: settings.keepCheckpoints,
    logEvery: settings.logEvery,
    schedule: { kind: schedule.kind, warmupSteps: schedule.warmupSteps },
    optimizer: { lr: optimizer.lr, beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, weightDecay: options.optimizer.weightDecay ?? 0 },
    ...(start.scheduleChanges.length > 0 ? { scheduleChanges: start.scheduleChanges } : {}),
  };
  const parts: RunParts<B> = { options, settings, schedule, optimizer, rng, log, runConfig };
  const updateParts = { model, batches, optimizer, namedParameters, params, accumulation: settings.accumulation, clipNorm: settings.clipNorm };

  let lastCheckpoint = resumed?.dir;
  let lastSavedStep = resumed ? step : -1;
  let lr = schedule.lr;
  let stoppedBecause: TrainResult['stoppedBecause'] = 'totalSteps';
  const save = async (): Promise<void> => {
    lastCheckpoint = await checkpointRun(parts, { step, batchesConsumed, lr });
    lastSavedStep = step;
  };

  model.train(true);
  const recyclingBefore = cpuBufferRecycling();
  setCpuBufferRecycling(options.recycleCpuBuffers ?? true);
  try {
    while (step < Math.min(totalSteps, settings.stopAtStep)) {
      lr = learningRateAt(schedule, step);
      const { taken, outcome } = await runUpdate(updateParts, lr, step + 1, batchesConsumed);
      batchesConsumed += taken;
      if (!outcome) {
        stoppedBecause = 'dataExhausted';
        progress?.note(`train: data exhausted after ${batchesConsumed} batches; stopping at step ${step}`);
        break;
      }
      step += 1;
      log.record(step, outcome);
      await options.onStep?.({ step, totalSteps, losses: outcome.losses, lr, gradNorm: outcome.gradNorm, tokens: outcome.tokens, batchesConsumed });
      log.report(step, lr);
      if (settings.checkpointEvery > 0 && step % settings.checkpointEvery === 0) await save();
    }
    if (step === settings.stopAtStep && step < totalSteps) stoppedBecause = 'stopAtStep';
    if (step > 0 && step !== lastSavedStep) await save();
  } finally {
    setCpuBufferRecycling(recyclingBefore);
    progress?.finish();
    if (log.hasRecords()) log.writePlot();
  }
  return {
    step,
    stoppedBecause,
    lastCheckpoint,
    resumedFrom: resumed?.dir,
    lastLosses: log.losses,
    elapsedSeconds: log.elapsed(),
    tokensSeen: log.tokens,
    ...(start.extended ? { extended: start.extended } : {}),
  };
}
