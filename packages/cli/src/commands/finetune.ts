import type { CommandSpec } from '../args/spec.js';
import { BACKEND_OPTION, CONFIG_OPTION, POOLING_OPTION, PROGRESS_OPTION, STOP_AT_STEP_OPTION, checkpointOptions, optimizerOptions, type TrainingLoopCliOptions } from './common.js';

/** Options of `retro finetune` after parsing (camelCase keys). */
export interface FinetuneCliOptions extends TrainingLoopCliOptions {
  model: string;
  output: string;
  triples?: string;
  pairs?: string;
  titles?: string[];
  dev?: string;
  tokenizer?: string;
  maxPairs?: number;
  titleDataTypes: string[];
  group: number;
  temperature: number;
  symmetric: boolean;
  queryInstruction?: string;
  cosentScale: number;
  pooling: 'cls' | 'mean';
  maxLength?: number;
  chunkSize?: number;
  evalEvery: number;
  batchSize: number;
  accumulation: number;
  totalSteps: number;
  seed: number;
  resume: boolean;
  overwrite: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const finetuneCommand: CommandSpec = {
  name: 'finetune',
  summary: 'Contrastive fine-tuning of a sentence encoder (InfoNCE on triples, CoSENT on scored pairs)',
  usage: 'retro finetune --model DIR --output DIR (--triples FILE | --pairs FILE | --titles FILES) [options]',
  description:
    'Trains the encoder of a retro or HF BERT/RoBERTa folder (masked-LM or bare encoder) into a retriever. ' +
    'Exactly one source of examples: --triples (FlagEmbedding {"query","pos":[..],"neg":[..]} JSONL -> InfoNCE ' +
    'with in-batch negatives plus --group - 1 listed hard negatives per query), --pairs ({"sentence1","sentence2","score"} ' +
    'JSONL -> CoSENT), or --titles (WuDao corpus files: title -> content pairs as unsupervised InfoNCE, a warm-up ' +
    'that needs no labels).' +
    '\n\n' +
    '--chunk-size turns on gradient caching: the whole batch is embedded without a graph, the loss gradient is ' +
    'taken with respect to the embeddings, and sub-batches of this many texts are re-run with a graph, so large ' +
    'in-batch negatives fit in small memory with the same gradient.' +
    '\n\n' +
    'Same loop as pretraining: AdamW, schedule, clipping, checkpoint-<step>/ folders written atomically, --resume, ' +
    'metrics.jsonl + loss.svg. With --dev (scored pairs) the dev Spearman is measured every --eval-every steps ' +
    '(dev.jsonl, dev.svg) and the best model is kept in <output>/best.',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Model folder to start from (config.json + model.safetensors)' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'DIR', description: 'Run folder: checkpoints, metrics.jsonl, loss.svg, dev.jsonl, best/' },
    { name: 'triples', type: 'path', placeholder: 'FILE', description: 'Query/positive/negative JSONL (InfoNCE)' },
    { name: 'pairs', type: 'path', placeholder: 'FILE', description: 'Scored sentence pairs JSONL (CoSENT)' },
    { name: 'titles', type: 'list', placeholder: 'FILES', description: 'WuDao corpus files, comma-separated: title -> content pairs (InfoNCE, in-batch negatives)' },
    { name: 'dev', type: 'path', placeholder: 'FILE', description: 'Scored pairs JSONL: dev Spearman during training, best model kept' },
    { name: 'tokenizer', type: 'path', placeholder: 'DIR', description: 'Tokenizer folder (default: --model)' },
    { name: 'max-pairs', type: 'integer', min: 1, description: 'With --titles: use at most this many pairs' },
    { name: 'title-data-types', type: 'list', default: ['新闻'], placeholder: 'TYPES', description: 'With --titles: WuDao dataType values kept (news titles are real headlines)' },
    { name: 'group', type: 'integer', default: 1, min: 1, description: 'Passages per query: 1 positive + group-1 listed hard negatives (1: in-batch negatives only)' },
    { name: 'temperature', type: 'number', default: 0.02, min: 0.0001, description: 'InfoNCE temperature (bge: 0.02)' },
    { name: 'symmetric', type: 'boolean', default: false, description: 'InfoNCE in both directions (query -> passage and positive -> query)' },
    { name: 'query-instruction', type: 'string', placeholder: 'TEXT', description: 'Prepended to every query (e.g. bge\'s 为这个句子生成表示以用于检索相关文章：)' },
    { name: 'cosent-scale', type: 'number', default: 20, min: 0, description: 'CoSENT lambda' },
    POOLING_OPTION,
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: 64, or the model\'s position table if shorter)' },
    { name: 'chunk-size', type: 'integer', min: 1, description: 'Gradient caching: texts per encoder pass (default: the whole batch at once)' },
    { name: 'eval-every', type: 'integer', default: 100, min: 1, description: 'Dev evaluation every N steps (and at the end)' },
    { name: 'batch-size', type: 'integer', default: 32, min: 2, short: 'b', description: 'Queries (or pairs) per micro-batch' },
    { name: 'accumulation', type: 'integer', default: 1, min: 1, description: 'Micro-batches per optimizer step (each has its own in-batch negatives; prefer --chunk-size)' },
    { name: 'total-steps', type: 'integer', default: 1000, min: 1, description: 'Optimizer steps in total' },
    ...optimizerOptions(5e-5),
    ...checkpointOptions(2),
    { name: 'seed', type: 'integer', default: 42, min: 0, description: 'Seed of data order, negative sampling and dropout' },
    { name: 'resume', type: 'boolean', default: false, description: 'Continue from the newest complete checkpoint in --output' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Start over in an --output that already holds a run (deletes its checkpoints)' },
    STOP_AT_STEP_OPTION,
    PROGRESS_OPTION,
    BACKEND_OPTION,
  ],
  examples: [
    'retro finetune --model runs/retromae/checkpoint-1800 --triples ../shared/finetune/stsb-train-triples.jsonl --group 4 --dev ../shared/finetune/stsb-dev.jsonl --output runs/ft --total-steps 300 --lr 1e-4',
    'retro finetune --model runs/retromae/checkpoint-1800 --pairs ../shared/finetune/stsb-train.jsonl --output runs/ft-cosent',
    'retro finetune --model runs/retromae/checkpoint-1800 --titles ../shared/corpus/part-000.json --batch-size 128 --chunk-size 32 --output runs/warmup',
  ],
};
