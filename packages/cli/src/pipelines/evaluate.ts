import { evaluate, loadSuite, type EvalResult, type TaskKind } from '@retro/eval';
import type { EvalOptions } from '../commands/eval.js';
import { openEncoder } from './embed.js';

/** Progress of `retro eval`: texts embedded so far for one task. */
export interface EvalProgress {
  task: string;
  done: number;
  total: number;
}

/**
 * `retro eval`: a checkpoint on a C-MTEB-style suite folder (stsb/, reranking/, retrieval/).
 * Writes nothing: the caller decides where results go (only where --output says).
 */
export async function runEvaluate(options: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalResult> {
  const tasks = options.tasks as TaskKind[] | undefined;
  const suite = loadSuite(options.data, { tasks });
  const session = await openEncoder(options.model, options);
  return evaluate(
    suite,
    {
      name: `${options.model} (${options.pooling})`,
      embed: (texts) => {
        const { vectors, dim } = session.embed(texts);
        return Array.from({ length: texts.length }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim));
      },
    },
    {
      batchSize: options.batchSize,
      tasks,
      onProgress: onProgress ? (p) => onProgress({ task: p.task, done: p.done, total: p.total }) : undefined,
      meta: { model: options.model, pooling: options.pooling, normalize: options.normalize, maxLength: options.maxLength ?? null },
    },
  );
}
