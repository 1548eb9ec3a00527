import type { CommandSpec } from '../args/spec.js';
import { suggest } from '../args/spec.js';
import { UsageError } from '../errors.js';
import { BACKEND_OPTION, CONFIG_OPTION, NORMALIZE_OPTION, POOLING_OPTION } from './common.js';

export interface EvalOptions {
  model: string;
  data: string;
  tasks?: string[];
  output?: string;
  overwrite: boolean;
  batchSize: number;
  maxLength?: number;
  pooling: 'cls' | 'mean';
  normalize: boolean;
  backend?: 'cpu' | 'gpujs';
}

/** Task names --tasks accepts -> the task kind (the folder names of cmteb-lite are accepted too). */
const TASK_ALIASES: Record<string, 'sts' | 'reranking' | 'retrieval'> = { sts: 'sts', stsb: 'sts', reranking: 'reranking', retrieval: 'retrieval' };
export const EVAL_TASK_NAMES: readonly string[] = Object.keys(TASK_ALIASES);
const TASK_HELP = 'sts (folder stsb/ or sts/: {sentence1, sentence2, score} JSONL), reranking (folder reranking/: {query, positive, negative} JSONL), retrieval (folder retrieval/: BEIR corpus.jsonl, queries.jsonl, qrels/test.tsv)';

/** --tasks names -> task kinds, each once; an unknown name is a usage error listing the valid ones. */
export function resolveEvalTasks(names: readonly string[] | undefined): Array<'sts' | 'reranking' | 'retrieval'> | undefined {
  if (names === undefined) return undefined;
  const kinds = new Set<'sts' | 'reranking' | 'retrieval'>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    const kind = TASK_ALIASES[name];
    if (!kind) {
      const hint = suggest(name, EVAL_TASK_NAMES);
      throw new UsageError(`option --tasks: unknown task '${raw}'${hint ? ` (did you mean '${hint}'?)` : ''}; valid tasks: ${EVAL_TASK_NAMES.join(', ')}`, 'eval');
    }
    kinds.add(kind);
  }
  if (kinds.size === 0) throw new UsageError(`option --tasks: no task named; valid tasks: ${EVAL_TASK_NAMES.join(', ')}`, 'eval');
  return [...kinds];
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Score a model on C-MTEB-style tasks (STS, retrieval, ...)',
  usage: 'retro eval --model DIR --data DIR [options]',
  description:
    'Embeds the texts of each task in --data with the model and reports the task metrics ' +
    '(Spearman correlation for STS, MAP / MRR@10 for reranking, nDCG@10 / Recall / MRR@10 for retrieval). ' +
    `Tasks: ${TASK_HELP}. ` +
    'Prints a table; writes results only where --output says: a .json file gets the whole result, any other ' +
    'path is a folder that gets one JSON per task (MTEB style), summary.json, results.json and table.txt.',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Pretrained model directory' },
    { name: 'data', type: 'path', required: true, short: 'd', placeholder: 'DIR', description: 'Evaluation data directory (cmteb-lite layout)' },
    { name: 'tasks', type: 'list', placeholder: 'NAMES', description: `Only these tasks, comma-separated: ${EVAL_TASK_NAMES.join(', ')} (default: all in --data)` },
    { name: 'output', type: 'path', short: 'o', placeholder: 'FILE|DIR', description: 'Write the results here: a .json file, or a folder for per-task JSON files' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Replace an existing --output file or write into a non-empty --output folder' },
    { name: 'batch-size', type: 'integer', default: 32, min: 1, short: 'b', description: 'Texts per forward pass' },
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: what the model\'s position table holds)' },
    POOLING_OPTION,
    NORMALIZE_OPTION,
    BACKEND_OPTION,
  ],
  examples: ['retro eval --model runs/poetry/checkpoint-2000 --data ../shared/cmteb-lite --output eval.json'],
};
