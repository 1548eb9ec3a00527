import { FieldReader, readJsonl } from '../io/jsonl.js';
import { spearman } from '../metrics/spearman.js';
import type { StsScores } from '../types.js';

/** Semantic textual similarity: sentence pairs [P] with a gold score each. */
export interface StsTask {
  kind: 'sts';
  name: string;
  /** File it was loaded from, or '' when built in memory. */
  source: string;
  sentences1: string[];
  sentences2: string[];
  /** Gold scores [P], float64. */
  gold: Float64Array;
}

export interface StsPair {
  sentence1: string;
  sentence2: string;
  score: number;
}

/** Builds a task from in-memory pairs (tests, programmatic use). */
export function stsTask(name: string, pairs: StsPair[], source = ''): StsTask {
  if (pairs.length < 2) throw new Error(`stsTask(${name}): need at least 2 pairs for a correlation, found ${pairs.length}`);
  return {
    kind: 'sts',
    name,
    source,
    sentences1: pairs.map((p) => p.sentence1),
    sentences2: pairs.map((p) => p.sentence2),
    gold: Float64Array.from(pairs, (p) => p.score),
  };
}

/** Loads `{"sentence1","sentence2","score"}` JSONL (C-MTEB STSB / text2vec layout). */
export function loadStsTask(file: string, name = 'sts'): StsTask {
  const caller = 'loadStsTask';
  const f = new FieldReader(caller, file);
  const pairs = readJsonl(file, caller).map((rec) => ({
    sentence1: f.string(rec, 'sentence1'),
    sentence2: f.string(rec, 'sentence2'),
    score: f.finiteNumber(rec, 'score'),
  }));
  if (pairs.length < 2) throw new Error(`${caller}: ${file}: need at least 2 pairs, found ${pairs.length}`);
  if (pairs.every((p) => p.score === pairs[0]!.score)) {
    throw new Error(`${caller}: ${file}: every 'score' is ${pairs[0]!.score}; a correlation needs gold scores that differ`);
  }
  return stsTask(name, pairs, file);
}

/**
 * Spearman (×100) of `similarities` [P] against the gold scores. Equal similarities for every pair
 * (a model whose vectors do not depend on the text) or equal gold scores leave the correlation
 * undefined: that is an error naming the task, never a NaN that a report would print as null.
 */
export function scoreSts(task: StsTask, similarities: ArrayLike<number>): StsScores {
  if (similarities.length !== task.gold.length) {
    throw new Error(`scoreSts(${task.name}): expected ${task.gold.length} similarities, found ${similarities.length}`);
  }
  const constant = (values: ArrayLike<number>) => Array.prototype.every.call(values, (v: number) => v === values[0]);
  if (constant(task.gold)) throw new Error(`scoreSts(${task.name}): every gold score is ${task.gold[0]}; Spearman is undefined for constant scores`);
  if (constant(similarities)) {
    throw new Error(
      `scoreSts(${task.name}): all ${similarities.length} pair similarities are ${similarities[0]}, so Spearman is undefined; ` +
        'the model gives (nearly) the same vector to every text: check the checkpoint (untrained, collapsed or broken weights)',
    );
  }
  return { spearman: 100 * spearman(similarities, task.gold), pairs: task.gold.length };
}
