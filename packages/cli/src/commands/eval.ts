import type { TaskEntry } from '@retro/eval';
import type { CommandSpec } from '../args/spec.js';
import { suggest } from '../args/spec.js';
import { UsageError } from '../errors.js';
import { BACKEND_OPTION, CONFIG_OPTION, FOLDER_POOLING_OPTION, NORMALIZE_OPTION } from './common.js';

export type EvalTaskType = 'sts' | 'reranking' | 'retrieval';

export interface EvalOptions {
  model: string;
  data: string;
  tasks?: string[];
  taskType?: EvalTaskType;
  split?: string;
  output?: string;
  overwrite: boolean;
  batchSize: number;
  maxLength?: number;
  /** Default: the folder's (readFolderPooling). */
  pooling?: 'cls' | 'mean';
  normalize: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const EVAL_TASK_TYPES: readonly EvalTaskType[] = ['sts', 'reranking', 'retrieval'];
const LAYOUT_HELP =
  'sts: {sentence1, sentence2, score} JSONL; reranking: {query, positive: [..], negative: [..]} JSONL; ' +
  'retrieval: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)';

/**
 * --tasks names -> the tasks found in --data: a task name, or a type for all tasks of that type.
 * An unknown name is a usage error listing the valid ones (with a close match when there is one).
 */
export function selectEvalTasks(entries: TaskEntry[], names: readonly string[] | undefined): TaskEntry[] {
  if (names === undefined) return entries;
  const valid = [...new Set([...entries.map((e) => e.name), ...EVAL_TASK_TYPES])];
  const wanted = new Set<TaskEntry>();
  for (const raw of names) {
    const name = raw.trim();
    const byName = entries.filter((e) => e.name.toLowerCase() === name.toLowerCase());
    const picked = byName.length > 0 ? byName : entries.filter((e) => e.kind === name.toLowerCase());
    if (picked.length === 0) {
      const hint = suggest(name, valid);
      const none = (EVAL_TASK_TYPES as readonly string[]).includes(name.toLowerCase()) ? ` (--data has no ${name.toLowerCase()} task)` : '';
      throw new UsageError(`option --tasks: unknown task '${raw}'${none}${hint && !none ? ` (did you mean '${hint}'?)` : ''}; valid tasks: ${valid.join(', ')}`, 'eval');
    }
    for (const entry of picked) wanted.add(entry);
  }
  if (wanted.size === 0) throw new UsageError(`option --tasks: no task named; valid tasks: ${valid.join(', ')}`, 'eval');
  return entries.filter((e) => wanted.has(e));
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Score a model on a folder of tasks (STS, reranking, BEIR retrieval)',
  usage: 'retro eval --model DIR --data DIR [options]',
  description:
    'Embeds the texts of each task in --data with the model and reports the task metrics ' +
    '(Spearman correlation for STS, MAP / MRR@10 for reranking, nDCG@10 / Recall / MRR@10 for retrieval). ' +
    '--data is a folder of tasks: each sub-folder is a task (a BEIR folder, or JSONL files: <split>.jsonl, ' +
    'by default test.jsonl, or the only .jsonl), each .jsonl file in it is a task too, and a task folder given ' +
    `directly (BEIR, or holding <split>.jsonl and no sub-folder) is one task. The type of each task is read from its files (or given with --task-type). Layouts: ${LAYOUT_HELP}. ` +
    'Prints one line per task; writes results only where --output says: a .json file gets the whole result, any other ' +
    'path is a folder that gets one MTEB-style JSON per task (main_score, metrics, split, model and dataset revision) and model_meta.json.',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Pretrained model directory' },
    { name: 'data', type: 'path', required: true, short: 'd', placeholder: 'DIR', description: 'Folder of tasks (or one BEIR folder)' },
    { name: 'tasks', type: 'list', placeholder: 'NAMES', description: `Only these tasks, comma-separated: task names found in --data, or the types ${EVAL_TASK_TYPES.join(', ')} (default: all)` },
    { name: 'task-type', type: 'enum', choices: [...EVAL_TASK_TYPES], description: 'Every task is of this type (default: read from the files)' },
    { name: 'split', type: 'string', placeholder: 'NAME', description: 'Split to score: <split>.jsonl in JSONL task folders, qrels/<split>.tsv in BEIR folders (default: test)' },
    { name: 'output', type: 'path', short: 'o', placeholder: 'FILE|DIR', description: 'Write the results here: a .json file, or a folder for per-task JSON files' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Replace an existing --output file or write into a non-empty --output folder' },
    { name: 'batch-size', type: 'integer', default: 32, min: 1, short: 'b', description: 'Texts per forward pass' },
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: what the model\'s position table holds)' },
    FOLDER_POOLING_OPTION,
    NORMALIZE_OPTION,
    BACKEND_OPTION,
  ],
  examples: [
    'retro eval --model runs/poetry/checkpoint-2000 --data ../shared/cmteb-lite --output eval.json',
    'retro eval --model exported --data my-tasks --tasks sts,SciFact --output results/',
  ],
};
