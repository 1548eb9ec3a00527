/**
 * Scores an embedder on a list of discovered tasks (any number of each type), one task in memory
 * at a time, each through `evaluate` (same metrics, same checks).
 */
import { evaluate } from './evaluate.js';
import { asEmbedder } from './embed.js';
import { taskRevision, type TaskEntry } from './tasks/discover.js';
import type { TaskSuite } from './tasks/suite.js';
import type { EmbedFn, Embedder, RerankingScores, RetrievalScores, StsScores, TaskKind, TaskTiming } from './types.js';

/** The main score of each task type, MTEB's choice. */
export const MAIN_METRIC: Record<TaskKind, string> = { sts: 'spearman', reranking: 'map', retrieval: 'ndcg10' };

export interface TaskResult {
  task: string;
  kind: TaskKind;
  split: string;
  /** `sha256:` over the task's files (taskRevision). */
  revision: string;
  files: string[];
  /** Name of the main metric in `scores` and its value (×100). */
  mainMetric: string;
  mainScore: number;
  scores: StsScores | RerankingScores | RetrievalScores;
  timing: TaskTiming;
}

export interface TasksResult {
  embedder: string;
  /** The tasks folder. */
  data: string;
  /** Every metric is ×100. */
  scale: 100;
  tasks: TaskResult[];
  totalMs: number;
  meta: Record<string, unknown>;
}

export interface EvaluateTasksOptions {
  /** Texts per embed() call. Default 32. */
  batchSize?: number;
  /** BEIR ignore_identical_ids. Default true. */
  ignoreIdenticalIds?: boolean;
  /** After each embedded batch: the task, texts embedded so far and the total for that task. */
  onProgress?: (p: { task: string; kind: TaskKind; done: number; total: number }) => void;
  /** Called when a task is scored (e.g. to print its line before the next one starts). */
  onTask?: (result: TaskResult) => void;
  /** The tasks folder, stored in the result. */
  data?: string;
  meta?: Record<string, unknown>;
}

/** Each entry loaded, embedded and scored in turn; returns every task's scores. */
export async function evaluateTasks(entries: TaskEntry[], embedder: Embedder | EmbedFn, options: EvaluateTasksOptions = {}): Promise<TasksResult> {
  if (entries.length === 0) throw new Error('evaluateTasks: no tasks');
  const e = asEmbedder(embedder);
  const started = performance.now();
  const tasks: TaskResult[] = [];
  let dim: number | undefined;
  for (const entry of entries) {
    const task = entry.load();
    const suite: TaskSuite = { name: entry.name, root: entry.files[0]!, [entry.kind]: task };
    const onProgress = options.onProgress;
    const result = await evaluate(suite, e, {
      batchSize: options.batchSize,
      tasks: [entry.kind],
      ignoreIdenticalIds: options.ignoreIdenticalIds,
      onProgress: onProgress ? (p) => onProgress({ task: entry.name, kind: entry.kind, done: p.done, total: p.total }) : undefined,
    });
    dim = result.meta.dim as number | undefined;
    const scores = result[entry.kind]!;
    const mainMetric = MAIN_METRIC[entry.kind];
    const scored: TaskResult = {
      task: entry.name,
      kind: entry.kind,
      split: entry.split,
      revision: taskRevision(entry),
      files: entry.files,
      mainMetric,
      mainScore: (scores as unknown as Record<string, number>)[mainMetric]!,
      scores,
      timing: result.timings[entry.kind]!,
    };
    tasks.push(scored);
    options.onTask?.(scored);
  }
  return {
    embedder: e.name,
    data: options.data ?? '',
    scale: 100,
    tasks,
    totalMs: performance.now() - started,
    meta: { dim, batchSize: options.batchSize ?? 32, date: new Date().toISOString(), ...options.meta },
  };
}
