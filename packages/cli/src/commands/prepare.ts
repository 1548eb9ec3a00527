import type { CommandSpec } from '../args/spec.js';
import { CONFIG_OPTION } from './common.js';

/** Options of `retro prepare` after parsing (camelCase keys). */
export interface PrepareOptions {
  input: string[];
  output: string;
  tokenizer: string;
  maxLength: number;
  shardTokens: number;
  sentenceTerminators?: string;
  wholeWord: 'jieba' | 'wordpiece';
  workers?: number;
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
    { name: 'max-length', type: 'integer', default: 512, min: 8, max: 65536, description: 'Tokens per sequence, [CLS] and [SEP] included' },
    { name: 'shard-tokens', type: 'integer', default: 4194304, min: 1024, max: 2147483647, description: 'Tokens per shard file (the loader shuffles across shards at training time)' },
    { name: 'sentence-terminators', type: 'string', placeholder: 'CHARS', description: 'Characters that end a sentence for chunking (default 。！？；…!?; ; the reference experiment used 。！？)' },
    {
      name: 'whole-word',
      type: 'enum',
      choices: ['jieba', 'wordpiece'],
      default: 'jieba',
      description:
        'Word grouping stored for whole-word masking: jieba (Chinese words, as Chinese-BERT-wwm) or wordpiece (`##` continuations only, as HF DataCollatorForWholeWordMask: every CJK character is its own word)',
    },
    {
      name: 'workers',
      type: 'integer',
      min: 1,
      max: 1024,
      placeholder: 'N',
      description:
        'Worker threads (default: one per core). With at least N files to prepare each worker prepares whole files; with fewer, workers chunk batches of documents the main thread reads. Shards are identical for any N; 1 runs everything on the main thread',
    },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Rebuild every shard even where the manifest says a file is already prepared; also allows an --output folder that holds other files' },
  ],
  examples: [
    'retro prepare --input ../shared/corpus/part-000.json,../shared/corpus/part-001.json --tokenizer vocab.txt --output runs/shards',
    'retro prepare --config pipeline.yaml',
  ],
};
