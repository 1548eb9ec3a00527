import type { CommandSpec } from '../args/spec.js';
import { CONFIG_OPTION } from './common.js';

/** Options of `retro prepare` after parsing (camelCase keys). */
export interface PrepareOptions {
  input: string[];
  output: string;
  tokenizer: string;
  maxLength: number;
  shardSize: number;
  seed: number;
  limit?: number;
  overwrite: boolean;
}

export const prepareCommand: CommandSpec = {
  name: 'prepare',
  summary: 'Tokenize a WuDao-format corpus into training shards',
  usage: 'retro prepare --input FILES|DIRS --tokenizer PATH --output DIR [options]',
  description:
    'Reads WuDao 2.0 JSON files (arrays of {id, uniqueKey, titleUkey, dataType, title, content}), ' +
    'cleans and tokenizes every document, cuts the token stream into sequences of at most --max-length ' +
    'tokens (special tokens included) and writes them as shards plus a manifest into --output. ' +
    'Runs once per corpus; `retro pretrain --data` reads the result.',
  options: [
    CONFIG_OPTION,
    { name: 'input', type: 'list', required: true, short: 'i', placeholder: 'PATHS', description: 'WuDao JSON files or directories of them (part-*.json); comma-separated or repeated' },
    { name: 'tokenizer', type: 'path', required: true, short: 't', description: 'Tokenizer: a vocab.txt or a directory with tokenizer files' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'DIR', description: 'Directory for the shards and manifest.json' },
    { name: 'max-length', type: 'integer', default: 512, min: 8, description: 'Tokens per sequence, [CLS] and [SEP] included' },
    { name: 'shard-size', type: 'integer', default: 10000, min: 1, description: 'Sequences per shard file' },
    { name: 'seed', type: 'integer', default: 42, min: 0, description: 'Seed of the shuffle applied while writing shards' },
    { name: 'limit', type: 'integer', min: 1, description: 'Use only the first N documents (quick runs)' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Replace an existing --output directory' },
  ],
  examples: [
    'retro prepare --input ../shared/corpus/part-000.json,../shared/corpus/part-001.json --tokenizer vocab.txt --output runs/shards',
    'retro prepare --config pipeline.yaml --limit 1000',
  ],
};
