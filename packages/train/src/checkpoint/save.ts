import { closeSync, cpSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeSafetensors, type NamedArray } from '../io/safetensors.js';
import { syncDirectory, writeFileAtomic, writeFileSynced } from '@retro/common';
import { LATEST_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, checkpointName, listCheckpoints } from './layout.js';
import type { TrainerState } from './state.js';
import { alignTokenizerMaxLength } from './tokenizer-config.js';

export interface CheckpointContents {
  /** Writes the model's files (savePretrained) into the directory given. */
  writeModel: (dir: string) => void | Promise<void>;
  /** Tokenizer files or directories to copy in (directories: their contents); model_max_length is set to the model's positions. */
  tokenizerFiles?: readonly string[];
  /** `exp_avg.<name>` / `exp_avg_sq.<name>` arrays. */
  optimizerTensors: ReadonlyMap<string, NamedArray>;
  state: TrainerState;
}

export interface SaveHooks {
  /** Runs after the temporary directory is complete and before it is renamed (tests crash here). */
  beforeRename?: (tempDir: string) => void | Promise<void>;
}

/** fsyncs every file below `dir` so the rename never publishes data still in flight. */
function syncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      syncTree(path);
      continue;
    }
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  syncDirectory(dir);
}

function copyTokenizerFiles(paths: readonly string[], dir: string): void {
  for (const path of paths) {
    if (!existsSync(path)) throw new Error(`saveCheckpoint: tokenizer file '${path}' does not exist`);
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) cpSync(join(path, name), join(dir, name), { recursive: true });
    } else {
      cpSync(path, join(dir, basename(path)));
    }
  }
}

/**
 * Writes `outputDir/checkpoint-<step>/` atomically: everything goes into
 * `checkpoint-<step>.tmp-<pid>/` (trainer_state.json last), is fsynced, then renamed into place;
 * only then is `latest` replaced (also atomically). A crash at any point leaves the previous
 * checkpoint and `latest` as they were. Returns the checkpoint directory.
 */
export async function saveCheckpoint(outputDir: string, contents: CheckpointContents, hooks: SaveHooks = {}): Promise<string> {
  const step = contents.state.step;
  const finalDir = join(outputDir, checkpointName(step));
  const tempDir = `${finalDir}.tmp-${process.pid}`;
  rmSync(tempDir, { recursive: true, force: true });
  mkdirSync(tempDir, { recursive: true });

  await contents.writeModel(tempDir);
  copyTokenizerFiles(contents.tokenizerFiles ?? [], tempDir);
  alignTokenizerMaxLength(tempDir);
  writeFileSynced(join(tempDir, OPTIMIZER_FILE), encodeSafetensors(contents.optimizerTensors, { step: String(step) }));
  writeFileSynced(join(tempDir, TRAINER_STATE_FILE), `${JSON.stringify(contents.state, null, 2)}\n`);
  syncTree(tempDir);

  await hooks.beforeRename?.(tempDir);

  if (existsSync(finalDir)) {
    // Same step saved before (a re-run after resume): move it aside first; rename cannot replace a non-empty dir.
    const oldDir = `${finalDir}.old-${process.pid}`;
    rmSync(oldDir, { recursive: true, force: true });
    renameSync(finalDir, oldDir);
    renameSync(tempDir, finalDir);
    rmSync(oldDir, { recursive: true, force: true });
  } else {
    renameSync(tempDir, finalDir);
  }
  syncDirectory(outputDir);
  writeFileAtomic(join(outputDir, LATEST_FILE), `${checkpointName(step)}\n`);
  return finalDir;
}

/**
 * Deletes all but the `keep` highest-step checkpoints (never `protectedStep`). Each goes by an
 * atomic rename to `.deleting-<pid>` first, so a crash mid-delete never leaves a half-deleted
 * directory under a checkpoint name. `keep` <= 0 keeps everything. Returns the steps deleted.
 */
export function pruneCheckpoints(outputDir: string, keep: number, protectedStep?: number): number[] {
  if (!(keep > 0) || !Number.isFinite(keep)) return [];
  const all = listCheckpoints(outputDir);
  const doomed = all.slice(0, Math.max(0, all.length - keep)).filter(({ step }) => step !== protectedStep);
  for (const { dir } of doomed) removeCheckpointDir(dir);
  return doomed.map(({ step }) => step);
}

function removeCheckpointDir(dir: string): void {
  const trash = `${dir}.deleting-${process.pid}`;
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}

/** Deletes every checkpoint and the `latest` pointer (a fresh run replacing an old one). */
export function deleteAllCheckpoints(outputDir: string): void {
  rmSync(join(outputDir, LATEST_FILE), { force: true });
  for (const { dir } of listCheckpoints(outputDir)) removeCheckpointDir(dir);
}
