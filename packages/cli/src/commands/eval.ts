import type { CommandSpec } from '../args/spec.js';
import { BACKEND_OPTION, CONFIG_OPTION, NORMALIZE_OPTION, POOLING_OPTION } from './common.js';

export interface EvalOptions {
  model: string;
  data: string;
  tasks?: string[];
  output?: string;
  batchSize: number;
  maxLength?: number;
  pooling: 'cls' | 'mean';
  normalize: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Score a model on C-MTEB-style tasks (STS, retrieval, ...)',
  usage: 'retro eval --model DIR --data DIR [options]',
  description:
    'Embeds the texts of each task in --data with the model and reports the task metrics ' +
    '(Spearman correlation for STS, nDCG@10 / MRR for retrieval and reranking). Prints a table and ' +
    'writes the full results as JSON to --output when given.',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Pretrained model directory' },
    { name: 'data', type: 'path', required: true, short: 'd', placeholder: 'DIR', description: 'Evaluation data directory (cmteb-lite layout)' },
    { name: 'tasks', type: 'list', placeholder: 'NAMES', description: 'Only these tasks, comma-separated (default: all in --data)' },
    { name: 'output', type: 'path', short: 'o', placeholder: 'FILE', description: 'Write the results as JSON here' },
    { name: 'batch-size', type: 'integer', default: 32, min: 1, short: 'b', description: 'Texts per forward pass' },
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: what the model\'s position table holds)' },
    POOLING_OPTION,
    NORMALIZE_OPTION,
    BACKEND_OPTION,
  ],
  examples: ['retro eval --model runs/poetry/checkpoint-2000 --data ../shared/cmteb-lite --output eval.json'],
};
