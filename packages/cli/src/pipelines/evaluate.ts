import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateTasks, type TaskEntry, type TaskResult, type TasksResult, type MtebModel } from '@retro/eval';
import type { EvalOptions } from '../commands/eval.js';
import { openEncoder } from './embed.js';

/** Progress of `retro eval`: texts embedded so far for one task. */
export interface EvalProgress {
  task: string;
  done: number;
  total: number;
}

/** `retro eval`'s result and the model it scored, for MTEB-style files. */
export interface EvalRun {
  result: TasksResult;
  model: MtebModel;
}

/** sha256 over the model's weight files (streamed), the model's "revision" in result files. */
export function modelRevision(dir: string): string | null {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.safetensors') && f !== 'optimizer.safetensors').sort() : [];
  if (files.length === 0) return null;
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1 << 20);
  for (const name of files) {
    hash.update(`${name}\0`);
    const fd = openSync(join(dir, name), 'r');
    try {
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * `retro eval`: a model folder on tasks found in --data (discoverTasks, then --tasks). Writes
 * nothing: the caller decides where results go (only where --output says). `onTask` sees each task's
 * scores as soon as they exist.
 */
export async function runEvaluate(
  options: EvalOptions,
  entries: TaskEntry[],
  onProgress?: (p: EvalProgress) => void,
  onTask?: (result: TaskResult) => void,
): Promise<EvalRun> {
  const session = await openEncoder(options.model, options);
  const settings = { pooling: session.pooling, normalize: options.normalize, maxLength: options.maxLength ?? session.model.config.maxSequenceLength };
  const result = await evaluateTasks(
    entries,
    {
      name: `${options.model} (${session.pooling})`,
      embed: (texts) => {
        const { vectors, dim } = session.embed(texts);
        return Array.from({ length: texts.length }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim));
      },
    },
    {
      batchSize: options.batchSize,
      data: options.data,
      onProgress: onProgress ? (p) => onProgress({ task: p.task, done: p.done, total: p.total }) : undefined,
      onTask,
      meta: { model: options.model, ...settings },
    },
  );
  return { result, model: { name: options.model, revision: modelRevision(options.model), ...settings, dim: result.meta.dim } };
}
