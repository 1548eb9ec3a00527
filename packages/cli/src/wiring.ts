/**
 * The one place where the CLI meets the model and data packages. Each entry receives parsed,
 * validated options; the argument layer never changes when an entry gets wired.
 */
import type { EmbedOptions } from './commands/embed.js';
import type { EvalOptions } from './commands/eval.js';
import type { PrepareOptions } from './commands/prepare.js';
import type { PretrainOptions, trainSettings } from './commands/pretrain.js';
import type { FinetuneCliOptions } from './commands/finetune.js';
import type { MineCliOptions } from './commands/mine.js';
import type { openEncoder } from './pipelines/embed.js';
import type { EvalProgress, EvalRun } from './pipelines/evaluate.js';
import type { TokenizerOptions } from './commands/tokenizer.js';
import type { ExportOptions } from './commands/export.js';
import type { TaskEntry, TaskResult } from '@retro/eval';

export interface Wiring {
  prepare(options: PrepareOptions): Promise<unknown>;
  pretrain(options: PretrainOptions, settings: ReturnType<typeof trainSettings>): Promise<unknown>;
  /** Vectors [texts.length, dim] in input order. */
  embed(texts: readonly string[], options: EmbedOptions): Promise<{ vectors: Float32Array; dim: number }>;
  /** Scores of every task in `tasks`; writes nothing (the CLI writes where --output says). */
  evaluate(options: EvalOptions, tasks: TaskEntry[], onProgress?: (p: EvalProgress) => void, onTask?: (result: TaskResult) => void): Promise<EvalRun>;
  /** Writes the export folder; returns the main files written. */
  export(options: ExportOptions): Promise<string[]>;
  /** Builds and saves a vocabulary; `onProgress` gets the documents read so far. */
  tokenizer(options: TokenizerOptions, onProgress?: (documents: number) => void): Promise<{ vocabSize: number; documents: number; files: number }>;
  finetune(options: FinetuneCliOptions): Promise<unknown>;
  /** Writes options.output; returns counts for the summary line. */
  mine(options: MineCliOptions): Promise<{ queries: number; toppedUp: number; poolSize: number }>;
}

/** `retro embed` calls embed once per group of texts: open the model once per process and options. */
const encoders = new Map<string, ReturnType<typeof openEncoder>>();
function cachedEncoder(options: EmbedOptions): ReturnType<typeof openEncoder> {
  const key = JSON.stringify([options.model, options.batchSize, options.maxLength, options.pooling, options.normalize]);
  if (!encoders.has(key)) encoders.set(key, import('./pipelines/embed.js').then((pipeline) => pipeline.openEncoder(options.model, options)));
  return encoders.get(key)!;
}

/**
 * Each command's pipeline is imported when the command runs. Why: the model packages (tensor
 * kernels, gpu.js, bert, train) cost every process their load time and memory, and `retro
 * prepare` or `--help` use none of them.
 */
export const defaultWiring: Wiring = {
  prepare: async (options) => (await import('./pipelines/prepare.js')).runPrepare(options),
  pretrain: async (options, settings) => (await import('./pipelines/pretrain.js')).runPretrain(options, settings),
  embed: async (texts, options) => (await cachedEncoder(options)).embed(texts),
  evaluate: async (options, tasks, onProgress, onTask) => (await import('./pipelines/evaluate.js')).runEvaluate(options, tasks, onProgress, onTask),
  export: async (options) => (await import('./pipelines/export.js')).runExport(options),
  tokenizer: async (options, onProgress) => (await import('./pipelines/build-tokenizer.js')).runBuildTokenizer(options, onProgress),
  finetune: async (options) => (await import('./pipelines/finetune.js')).runFinetune(options),
  mine: async (options) => (await import('./pipelines/finetune.js')).runMine(options),
};
