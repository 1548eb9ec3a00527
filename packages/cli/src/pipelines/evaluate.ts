import { evaluate, loadSuite, writeResults, formatTable, type TaskKind } from '@retro/eval';
import type { EvalOptions } from '../commands/eval.js';
import { openEncoder } from './embed.js';

/** `retro eval`: a checkpoint on a C-MTEB-style suite folder (stsb/, reranking/, retrieval/). */
export async function runEvaluate(options: EvalOptions): Promise<Record<string, Record<string, number>>> {
  const tasks = options.tasks as TaskKind[] | undefined;
  const suite = loadSuite(options.data, { tasks });
  const session = await openEncoder(options.model, options);
  const result = await evaluate(
    suite,
    {
      name: `${options.model} (${options.pooling})`,
      embed: (texts) => {
        const { vectors, dim } = session.embed(texts);
        return Array.from({ length: texts.length }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim));
      },
    },
    { batchSize: options.batchSize, tasks },
  );
  process.stderr.write(`${formatTable([result])}\n`);
  writeResults(options.model, [result]);
  const flat: Record<string, Record<string, number>> = {};
  for (const kind of ['sts', 'reranking', 'retrieval'] as const) {
    const scores = (result as unknown as Record<string, Record<string, number> | undefined>)[kind];
    if (scores) flat[kind] = scores;
  }
  return flat;
}
