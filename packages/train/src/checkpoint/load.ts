import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Tensor } from '@retro/tensor';
import { decodeSafetensors, readSafetensorsFile } from '../io/safetensors.js';
import type { AdamWStateDict } from '../optim/adamw.js';
import { OPTIMIZER_FILE, TRAINER_STATE_FILE, listCheckpoints, parseCheckpointName, parseLeftoverName } from './layout.js';
import { parseTrainerState, type TrainerState } from './state.js';

export interface LoadedCheckpoint {
  dir: string;
  step: number;
  state: TrainerState;
  optimizer: AdamWStateDict;
}

/**
 * Reads trainer_state.json and optimizer.safetensors of one checkpoint directory (weights are the
 * model's business), checking that they belong together: the state's step is the one the folder
 * name and the optimizer file say, so an edited or mixed-up checkpoint cannot resume at the
 * wrong step (retraining steps, or "resuming" past the end and training nothing).
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const statePath = join(dir, TRAINER_STATE_FILE);
  if (!existsSync(statePath)) throw new Error(`readCheckpoint: ${statePath} does not exist (not a complete checkpoint)`);
  const state = parseTrainerState(readFileSync(statePath, 'utf8'), statePath);
  const folderStep = parseCheckpointName(basename(dir));
  if (folderStep !== undefined && folderStep !== state.step) {
    throw new Error(`${statePath}: field 'step' is ${state.step}, but the folder is ${basename(dir)}: the state belongs to another checkpoint`);
  }
  const optimizerPath = join(dir, OPTIMIZER_FILE);
  if (!existsSync(optimizerPath)) throw new Error(`readCheckpoint: ${optimizerPath} does not exist (not a complete checkpoint)`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(optimizerPath), optimizerPath);
  if (metadata.step !== undefined && metadata.step !== String(state.step)) {
    throw new Error(`${optimizerPath}: metadata step is ${JSON.stringify(metadata.step)}, but ${TRAINER_STATE_FILE} says step ${state.step}: the files belong to different checkpoints`);
  }
  return { dir, step: state.step, state, optimizer: { steps: state.optimizer.steps, tensors } };
}

/** Why findLatestCheckpoint passed over a checkpoint directory. */
export interface SkippedCheckpoint {
  dir: string;
  reason: string;
}

/**
 * The newest complete checkpoint under `outputDir`: the highest-step `checkpoint-<n>/` that reads
 * back whole (readCheckpoint). The scan, not `latest`, decides: a crash between the rename and the
 * `latest` update must not lose the newer checkpoint. (`latest` is for people and scripts.)
 * Every newer directory passed over is reported with its reason through `onSkip` (default: a
 * line on stderr), so falling back to an older checkpoint is never silent.
 * Undefined when there is none.
 */
export function findLatestCheckpoint(
  outputDir: string,
  options: { onSkip?: (skipped: SkippedCheckpoint) => void } = {},
): LoadedCheckpoint | undefined {
  const onSkip = options.onSkip ?? ((s: SkippedCheckpoint) => process.stderr.write(`train: skipping ${s.dir}: ${s.reason}\n`));
  for (const { dir } of listCheckpoints(outputDir).reverse()) {
    try {
      return readCheckpoint(dir);
    } catch (error) {
      onSkip({ dir, reason: (error as Error).message });
    }
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp/old/deleting leftovers of saves that died (their pid is gone). Returns the names removed. */
export function cleanLeftovers(outputDir: string): string[] {
  if (!existsSync(outputDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(outputDir)) {
    const leftover = parseLeftoverName(name);
    if (!leftover || processAlive(leftover.pid)) continue;
    rmSync(join(outputDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  for (const name of readdirSync(outputDir)) {
    // Temp files of writeFileAtomic (`.latest.tmp-<pid>`) and similar.
    const match = /^\..+\.tmp-(\d+)$/.exec(name);
    if (match && !processAlive(Number(match[1]))) {
      rmSync(join(outputDir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Copies `dir/model.safetensors` into the parameters by their `namedParameters()` names (the
 * fallback when a model has no `loadPretrained`). Every parameter must be there with its shape.
 */
export function loadParametersFromSafetensors(namedParameters: ReadonlyArray<readonly [string, Tensor]>, path: string): void {
  if (!existsSync(path)) throw new Error(`loadParametersFromSafetensors: ${path} does not exist`);
  const stored = readSafetensorsFile(path);
  const missing = namedParameters.filter(([name]) => !stored.has(name)).map(([name]) => name);
  if (missing.length > 0) {
    throw new Error(`loadParametersFromSafetensors(${path}): no tensor for parameter(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  for (const [name, tensor] of namedParameters) {
    const entry = stored.get(name)!;
    if (entry.shape.length !== tensor.shape.length || entry.shape.some((d, i) => d !== tensor.shape[i])) {
      throw new Error(`loadParametersFromSafetensors(${path}): '${name}' has shape [${entry.shape.join(', ')}], parameter has [${tensor.shape.join(', ')}]`);
    }
    if (!(entry.data instanceof Float32Array)) throw new Error(`loadParametersFromSafetensors(${path}): '${name}' is not F32`);
    tensor.assign(entry.data);
  }
}
