/**
 * Results in MTEB's per-task layout: `<dir>/<TaskName>.json` holding `task_name`,
 * `dataset_revision`, `scores: { <split>: [{ main_score, <metrics>, hf_subset }] }` and
 * `evaluation_time`, plus `<dir>/model_meta.json`. As in MTEB, the scores in these files are
 * fractions (0..1), not the ×100 of the rest of @retro/eval.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import { slug, toJSON } from './report.js';
import type { TaskResult, TasksResult } from './run-tasks.js';
import type { RerankingScores, RetrievalScores, StsScores, TaskKind } from './types.js';

/** The model the scores belong to, as MTEB's model_meta.json names it. */
export interface MtebModel {
  /** Model folder or name. */
  name: string;
  /** e.g. `sha256:` of the weights; null when unknown. */
  revision: string | null;
  /** Anything else worth keeping (pooling, normalize, max length, dimension). */
  [key: string]: unknown;
}

const MTEB_TYPE: Record<TaskKind, string> = { sts: 'STS', reranking: 'Reranking', retrieval: 'Retrieval' };

/** MTEB's metric names, fractions. */
function mtebScores(result: TaskResult): Record<string, number> {
  const f = (v: number) => v / 100;
  if (result.kind === 'sts') {
    const s = result.scores as StsScores;
    return { cosine_spearman: f(s.spearman), main_score: f(s.spearman) };
  }
  if (result.kind === 'reranking') {
    const s = result.scores as RerankingScores;
    return { map: f(s.map), mrr_at_10: f(s.mrr10), main_score: f(s.map) };
  }
  const s = result.scores as RetrievalScores;
  return { ndcg_at_10: f(s.ndcg10), recall_at_10: f(s.recall10), recall_at_100: f(s.recall100), mrr_at_10: f(s.mrr10), main_score: f(s.ndcg10) };
}

/** One task's result file, MTEB style; `retro` keeps the counts and settings MTEB has no field for. */
export function mtebTaskJson(result: TaskResult, run: TasksResult, model: MtebModel): Record<string, unknown> {
  const { [result.mainMetric]: _main, ...rest } = result.scores as unknown as Record<string, unknown>;
  // Counts and flags: the scores without the metrics.
  const metrics = new Set(['spearman', 'map', 'mrr10', 'ndcg10', 'recall10', 'recall100']);
  const counts = Object.fromEntries(Object.entries(rest).filter(([key]) => !metrics.has(key)));
  return {
    task_name: result.task,
    task_type: MTEB_TYPE[result.kind],
    dataset_revision: result.revision,
    model_name: model.name,
    model_revision: model.revision,
    scores: { [result.split]: [{ ...mtebScores(result), hf_subset: 'default' }] },
    evaluation_time: (result.timing.encodeMs + result.timing.scoreMs) / 1000,
    retro: { files: result.files, main_metric: result.mainMetric, ...counts, encoded_texts: result.timing.encodedTexts, settings: run.meta },
  };
}

const RESERVED = 'model_meta';

/**
 * Writes `<dir>/<task>.json` per task and `<dir>/model_meta.json`, each to a temporary name and
 * renamed. `dir` is created. Returns the paths written.
 */
export function writeMtebResults(dir: string, run: TasksResult, model: MtebModel): string[] {
  const names = new Map<string, string>();
  for (const t of run.tasks) {
    const file = slug(t.task);
    if (file === RESERVED) throw new Error(`writeMtebResults: a task named '${t.task}' would overwrite ${RESERVED}.json; rename the task folder`);
    const other = names.get(file);
    if (other !== undefined) throw new Error(`writeMtebResults: tasks '${other}' and '${t.task}' map to the same file ${file}.json; rename one`);
    names.set(file, t.task);
  }
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (path: string, value: unknown) => {
    writeFileAtomic(path, toJSON(value));
    written.push(path);
  };
  for (const t of run.tasks) put(join(dir, `${slug(t.task)}.json`), mtebTaskJson(t, run, model));
  put(join(dir, `${RESERVED}.json`), { ...model, embedder: run.embedder, data: run.data, tasks: run.tasks.map((t) => ({ task: t.task, type: MTEB_TYPE[t.kind], split: t.split, main_score: t.mainScore / 100 })) });
  return written;
}
