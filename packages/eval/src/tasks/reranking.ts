import { FieldReader, readJsonl } from '../io/jsonl.js';
import { averagePrecision } from '../metrics/average-precision.js';
import { meanDefined, mrrAtK, pessimisticOrder } from '../metrics/ranking.js';
import type { RerankingScores } from '../types.js';

export interface RerankingInstance {
  query: string;
  positive: string[];
  negative: string[];
}

/** Reranking: per query, order its candidates (positives + negatives). */
export interface RerankingTask {
  kind: 'reranking';
  name: string;
  source: string;
  instances: RerankingInstance[];
}

export function rerankingTask(name: string, instances: RerankingInstance[], source = ''): RerankingTask {
  return { kind: 'reranking', name, source, instances };
}

/** Loads `{"query","positive":[..],"negative":[..]}` JSONL (MTEB reranking layout). */
export function loadRerankingTask(file: string, name = 'reranking'): RerankingTask {
  const caller = 'loadRerankingTask';
  const f = new FieldReader(caller, file);
  const instances = readJsonl(file, caller).map((rec) => ({
    query: f.string(rec, 'query'),
    positive: f.stringArray(rec, 'positive'),
    negative: f.stringArray(rec, 'negative'),
  }));
  if (instances.length === 0) throw new Error(`${caller}: ${file}: no records`);
  return rerankingTask(name, instances, file);
}

/** Candidates of one instance in scoring order: positives first, then negatives. */
export function candidates(inst: RerankingInstance): string[] {
  return inst.positive.concat(inst.negative);
}

/**
 * MAP and MRR@10 (×100). `scores[i]` [P_i + N_i] are the similarities of instance i's candidates in
 * `candidates()` order. Instances without a positive or without a negative are skipped, as in
 * MTEB's RerankingEvaluator.
 */
export function scoreReranking(task: RerankingTask, scores: ArrayLike<number>[]): RerankingScores {
  if (scores.length !== task.instances.length) {
    throw new Error(`scoreReranking(${task.name}): expected ${task.instances.length} score lists, found ${scores.length}`);
  }
  const aps: number[] = [];
  const mrrs: number[] = [];
  let skipped = 0;
  task.instances.forEach((inst, i) => {
    const s = scores[i]!;
    const n = inst.positive.length + inst.negative.length;
    if (s.length !== n) throw new Error(`scoreReranking(${task.name}): instance ${i} has ${n} candidates, found ${s.length} scores`);
    if (inst.positive.length === 0 || inst.negative.length === 0) {
      skipped++;
      return;
    }
    const labels = new Uint8Array(n).fill(1, 0, inst.positive.length);
    aps.push(averagePrecision(labels, s));
    const order = pessimisticOrder(s, labels);
    mrrs.push(mrrAtK(order.map((j) => labels[j]!), 10));
  });
  return {
    map: 100 * meanDefined(aps).mean,
    mrr10: 100 * meanDefined(mrrs).mean,
    queries: aps.length,
    skipped,
  };
}
