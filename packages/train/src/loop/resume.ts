import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@retro/tensor';
import { cleanLeftovers, findLatestCheckpoint, loadParametersFromSafetensors, readCheckpoint, type LoadedCheckpoint } from '../checkpoint/load.js';
import { listCheckpoints } from '../checkpoint/layout.js';
import { deleteAllCheckpoints } from '../checkpoint/save.js';
import type { TrainerState } from '../checkpoint/state.js';
import type { ProgressDisplay } from '../metrics/progress.js';
import type { BatchSource, CountedBatch, Trainable } from '../objective.js';
import type { AdamW } from '../optim/adamw.js';
import type { TrainerRng } from '../rng.js';
import { learningRateAt, validateSchedule, type ScheduleConfig } from '../schedule.js';
import type { LoopSettings, ScheduleExtension, TrainOptions } from './options.js';

/** Where a call to train() starts: a fresh run, or a checkpoint whose state has been restored. */
export interface RunStart {
  schedule: ScheduleConfig;
  /** The checkpoint restored, if any. */
  resumed?: LoadedCheckpoint;
  /** Set when a resume changed totalSteps (`extend`). */
  extended?: ScheduleExtension;
  /** Every schedule change of the run so far, oldest first (kept in trainer_state.json's config). */
  scheduleChanges: ScheduleExtension[];
}

/** The checkpoint to continue from, or undefined for a fresh run; refuses to mix two runs in one directory. */
function locateCheckpoint<B extends CountedBatch>(options: TrainOptions<B>, progress: ProgressDisplay | undefined): LoadedCheckpoint | undefined {
  const { outputDir } = options;
  if (typeof options.resume === 'string') {
    if (!existsSync(options.resume) || !statSync(options.resume).isDirectory()) throw new Error(`train: resume checkpoint '${options.resume}' is not a directory`);
    return readCheckpoint(options.resume);
  }
  if (options.resume) {
    const found = findLatestCheckpoint(outputDir);
    if (found) return found;
  }
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
  return undefined;
}

/**
 * The schedule this call follows. Fresh run or same totalSteps: as given (warmup default 0).
 * A resume with another totalSteps (only with `extend`): same kind and peak lr, the checkpoint's
 * warmup unless warmupSteps is given, decay recomputed for the new total.
 */
function settleSchedule<B extends CountedBatch>(options: TrainOptions<B>, totalSteps: number, saved: LoadedCheckpoint | undefined): { schedule: ScheduleConfig; extended?: ScheduleExtension } {
  const kind = options.schedule?.kind ?? 'linear';
  const lr = options.optimizer.lr;
  const explicitWarmup = options.schedule?.warmupSteps;
  if (!saved || saved.state.totalSteps === totalSteps) {
    const schedule = { kind, lr, warmupSteps: explicitWarmup ?? 0, totalSteps };
    validateSchedule(schedule);
    return { schedule };
  }
  const before = saved.state.schedule;
  if (!options.extend) {
    throw new Error(
      `train: cannot resume from ${saved.dir}: totalSteps is ${totalSteps} but the checkpoint was made with ${saved.state.totalSteps}; ` +
        `pass extend (CLI: --extend) to continue with the schedule recomputed for ${totalSteps} steps`,
    );
  }
  if (totalSteps <= saved.step) {
    throw new Error(`train: cannot extend ${saved.dir} to totalSteps ${totalSteps}: the checkpoint is already at step ${saved.step}`);
  }
  const schedule = { kind, lr, warmupSteps: explicitWarmup ?? before.warmupSteps, totalSteps };
  validateSchedule(schedule);
  const extended: ScheduleExtension = {
    atStep: saved.step,
    fromTotalSteps: before.totalSteps,
    toTotalSteps: totalSteps,
    fromWarmupSteps: before.warmupSteps,
    toWarmupSteps: schedule.warmupSteps,
    lrBefore: learningRateAt(before, saved.step),
    lrAfter: learningRateAt(schedule, saved.step),
  };
  return { schedule, extended };
}

/** Fields that fix the trajectory; a resume with different values could not reproduce the run. */
function trajectoryMismatch(state: TrainerState, schedule: ScheduleConfig, settings: LoopSettings, extending: boolean): string | undefined {
  const pairs: Array<[string, unknown, unknown]> = [
    ['accumulation', state.accumulation, settings.accumulation],
    ['schedule.kind', state.schedule.kind, schedule.kind],
    ['optimizer.lr', state.schedule.lr, schedule.lr],
    ['seed', (state.config as { seed?: number }).seed, settings.seed],
  ];
  // An extension states its warmup explicitly (or keeps the saved one); otherwise it must match.
  if (!extending) pairs.splice(1, 0, ['schedule.warmupSteps', state.schedule.warmupSteps, schedule.warmupSteps]);
  const bad = pairs.find(([, saved, now]) => saved !== now);
  return bad ? `${bad[0]} is ${JSON.stringify(bad[2])} but the checkpoint was made with ${JSON.stringify(bad[1])}` : undefined;
}

function describeExtension(e: ScheduleExtension, schedule: ScheduleConfig): string {
  const warmup = e.fromWarmupSteps === e.toWarmupSteps ? `warmup ${e.toWarmupSteps} kept` : `warmup ${e.fromWarmupSteps} -> ${e.toWarmupSteps}`;
  return (
    `train: extending the run at step ${e.atStep} from ${e.fromTotalSteps} to ${e.toTotalSteps} steps: the ${schedule.kind} schedule ` +
    `(peak lr ${schedule.lr}, ${warmup}) is recomputed for ${e.toTotalSteps} steps; the next update's lr is ${e.lrAfter.toPrecision(4)} ` +
    `(the old schedule's: ${e.lrBefore.toPrecision(4)})`
  );
}

/**
 * Prepares outputDir and, when resuming, restores model weights, optimizer moments, generator
 * states and the batch source's position from the checkpoint, after checking that the options
 * describe the same run (or an explicitly extended one).
 */
export async function startRun<B extends CountedBatch>(
  options: TrainOptions<B>,
  settings: LoopSettings,
  parts: { namedParameters: Array<[string, Tensor]>; optimizer: AdamW; rng: TrainerRng; progress: ProgressDisplay | undefined },
): Promise<RunStart> {
  mkdirSync(options.outputDir, { recursive: true });
  cleanLeftovers(options.outputDir);
  const resumed = locateCheckpoint(options, parts.progress);
  const { schedule, extended } = settleSchedule(options, settings.totalSteps, resumed);
  const earlier = ((resumed?.state.config as { scheduleChanges?: ScheduleExtension[] } | undefined)?.scheduleChanges ?? []);
  const scheduleChanges = extended ? [...earlier, extended] : earlier;
  if (!resumed) return { schedule, scheduleChanges };

  const mismatch = trajectoryMismatch(resumed.state, schedule, settings, extended !== undefined);
  if (mismatch) throw new Error(`train: cannot resume from ${resumed.dir}: ${mismatch}`);
  const { model, batches } = options;
  if (model.loadPretrained) await model.loadPretrained(resumed.dir);
  else loadParametersFromSafetensors(parts.namedParameters, join(resumed.dir, 'model.safetensors'));
  parts.optimizer.loadStateDict(resumed.optimizer, resumed.dir);
  parts.rng.setState(resumed.state.rng, join(resumed.dir, 'trainer_state.json'));
  try {
    batches.restore(resumed.state.dataLoader);
  } catch (error) {
    // The batch source knows its own position format; the user needs to know which file held it.
    throw new Error(`${join(resumed.dir, 'trainer_state.json')}: field 'dataLoader' does not fit this run's batch source: ${(error as Error).message}`);
  }
  parts.progress?.note(`train: resumed from ${resumed.dir} at step ${resumed.step}/${settings.totalSteps}`);
  if (extended) parts.progress?.note(describeExtension(extended, schedule));
  return { schedule, resumed, extended, scheduleChanges };
}
