import type { CommandSpec } from '../args/spec.js';
import { BACKEND_OPTION, CONFIG_OPTION, POOLING_OPTION } from './common.js';

export interface MineCliOptions {
  input: string;
  output: string;
  model?: string;
  bm25: boolean;
  pool?: string;
  range: string;
  negatives: number;
  queryInstruction?: string;
  pooling: 'cls' | 'mean';
  maxLength?: number;
  batchSize: number;
  seed: number;
  overwrite: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const mineCommand: CommandSpec = {
  name: 'mine',
  summary: 'Mine hard negatives for query/positive JSONL with a model or BM25',
  usage: 'retro mine --input FILE --output FILE (--model DIR | --bm25) [options]',
  description:
    'Reads FlagEmbedding triples ({"query","pos":[..],"neg":[..]}; neg may be absent), ranks a candidate pool ' +
    'for every query (cosine of the model\'s embeddings, or BM25 over characters and bigrams), drops the query\'s ' +
    'positives, skips the top ranks (likely unlabelled positives) and samples --negatives from the --range of ranks. ' +
    'Writes the same records with "neg" replaced. The pool is --pool ({"text"} JSONL) or every pos/neg text of --input.',
  options: [
    CONFIG_OPTION,
    { name: 'input', type: 'path', required: true, short: 'i', placeholder: 'FILE', description: 'Triples JSONL (query + pos; neg optional)' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'FILE', description: 'Triples JSONL with mined "neg"' },
    { name: 'model', type: 'path', short: 'm', placeholder: 'DIR', description: 'Rank by this model\'s embeddings' },
    { name: 'bm25', type: 'boolean', default: false, description: 'Rank by BM25 instead of a model' },
    { name: 'pool', type: 'path', placeholder: 'FILE', description: 'Candidate texts, {"text": ...} per line (default: the pos and neg texts of --input)' },
    { name: 'range', type: 'string', default: '10-210', placeholder: 'FROM-TO', description: 'Ranks (0-based, TO exclusive) negatives are sampled from; FROM > 0 skips likely unlabelled positives' },
    { name: 'negatives', type: 'integer', default: 15, min: 1, description: 'Negatives per query' },
    { name: 'query-instruction', type: 'string', placeholder: 'TEXT', description: 'Prepended to queries when ranking with a model' },
    POOLING_OPTION,
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: 64, or the model\'s position table if shorter)' },
    { name: 'batch-size', type: 'integer', default: 64, min: 1, short: 'b', description: 'Texts per forward pass' },
    { name: 'seed', type: 'integer', default: 42, min: 0, description: 'Seed of the sampling inside the range' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Replace --output if it exists' },
    BACKEND_OPTION,
  ],
  examples: [
    'retro mine --input ../shared/finetune/stsb-train-triples.jsonl --bm25 --range 2-50 --negatives 7 --output runs/triples-bm25.jsonl',
    'retro mine --input triples.jsonl --model runs/ft/best --range 10-210 --output triples-mined.jsonl',
  ],
};

/** "FROM-TO" -> [from, to) with 0 <= from < to. */
export function parseRange(text: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!match) throw new RangeError(`--range must look like FROM-TO (e.g. 10-210), got '${text}'`);
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (to <= from) throw new RangeError(`--range ${text}: TO must be larger than FROM`);
  return [from, to];
}
