import { existsSync, statSync } from 'node:fs';
import { writeFileAtomic } from '@retro/common';
import { dirname, extname, resolve } from 'node:path';
import { toJSON, writeMtebResults } from '@retro/eval';
import type { EvalRun } from '../pipelines/evaluate.js';
import { UsageError } from '../errors.js';
import { guardOutput } from './output-guard.js';

/** Where `retro eval --output` writes: one JSON file, or a folder of per-task JSON files. */
export interface EvalOutputTarget {
  kind: 'file' | 'folder';
  path: string;
}

/**
 * Reads --output before any work starts: `*.json` is a file whose folder must exist; anything else
 * is a results folder (created, with its parent required to exist so a typo does not build a tree).
 */
export function evalOutputTarget(output: string, command: string, guard: { model: string; data: string; overwrite: boolean }): EvalOutputTarget {
  const path = resolve(output);
  const isFile = extname(path).toLowerCase() === '.json';
  const parent = dirname(path);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new UsageError(`option --output: folder '${parent}' does not exist (create it first)`, command);
  }
  if (isFile && existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`option --output: '${output}' is a folder; give a .json file or a folder name without .json`, command);
  }
  if (!isFile && existsSync(path) && !statSync(path).isDirectory()) {
    throw new UsageError(`option --output: '${output}' is a file; results go into a folder, or name a .json file`, command);
  }
  // Never into the model or the task folder; replacing results needs --overwrite.
  guardOutput({
    command,
    output: { option: 'output', path: output, kind: isFile ? 'file' : 'directory' },
    inputs: [
      { option: 'model', path: guard.model },
      { option: 'data', path: guard.data },
    ],
    overwrite: guard.overwrite,
  });
  return { kind: isFile ? 'file' : 'folder', path };
}

/**
 * Writes the run where the target says (atomically per file): a .json file gets the whole result
 * and the model, a folder one MTEB-style file per task and model_meta.json. Returns the paths written.
 */
export async function writeEvalOutput(target: EvalOutputTarget, run: EvalRun): Promise<string[]> {
  if (target.kind === 'folder') return writeMtebResults(target.path, run.result, run.model);
  writeFileAtomic(target.path, toJSON({ ...run.result, model: run.model }));
  return [target.path];
}
