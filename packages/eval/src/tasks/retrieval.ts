import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FieldReader, readJsonl, readText } from '../io/jsonl.js';
import { meanDefined, mrrAtK, ndcgAtK, recallAtK } from '../metrics/ranking.js';
import type { RetrievalScores } from '../types.js';

export interface CorpusDoc {
  id: string;
  title: string;
  text: string;
}

export interface Query {
  id: string;
  text: string;
}

/** Retrieval in BEIR layout: corpus [N], queries [Q], qrels query-id -> corpus-id -> gain. */
export interface RetrievalTask {
  kind: 'retrieval';
  name: string;
  source: string;
  split: string;
  corpus: CorpusDoc[];
  queries: Query[];
  qrels: Map<string, Map<string, number>>;
}

export interface RetrievalLoadOptions {
  split?: string;
  /**
   * true (default): a qrel naming an unknown query or corpus id is an error. false: such qrels are
   * dropped (some public BEIR sets have a few), and `droppedQrels` on the task counts them.
   */
  strict?: boolean;
  name?: string;
}

/** Builds a task in memory; checks that ids are unique and that qrels point at known ids. */
export function retrievalTask(name: string, corpus: CorpusDoc[], queries: Query[], qrels: Map<string, Map<string, number>>, split = 'test', source = ''): RetrievalTask {
  const caller = `retrievalTask(${name})`;
  const docIds = uniqueIds(caller, 'corpus', corpus);
  const queryIds = uniqueIds(caller, 'queries', queries);
  for (const [qid, rel] of qrels) {
    if (!queryIds.has(qid)) throw new Error(`${caller}: qrels name query "${qid}", which is not in queries`);
    for (const did of rel.keys()) if (!docIds.has(did)) throw new Error(`${caller}: qrels of query "${qid}" name doc "${did}", which is not in the corpus`);
  }
  return { kind: 'retrieval', name, source, split, corpus, queries, qrels };
}

function uniqueIds(caller: string, what: string, items: { id: string }[]): Set<string> {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new Error(`${caller}: duplicate ${what} id "${it.id}"`);
    seen.add(it.id);
  }
  return seen;
}

/**
 * Loads a BEIR folder: `corpus.jsonl` {_id, title?, text}, `queries.jsonl` {_id, text},
 * `qrels/<split>.tsv` with columns query-id, corpus-id, score (tab-separated; a header line is
 * recognised by its non-numeric score column and skipped, as BEIR's loader does).
 */
export function loadRetrievalTask(dir: string, options: RetrievalLoadOptions = {}): RetrievalTask & { droppedQrels: number } {
  const caller = 'loadRetrievalTask';
  const split = options.split ?? 'test';
  const strict = options.strict ?? true;
  const corpusFile = join(dir, 'corpus.jsonl');
  const queriesFile = join(dir, 'queries.jsonl');
  const qrelsFile = join(dir, 'qrels', `${split}.tsv`);
  for (const f of [corpusFile, queriesFile, qrelsFile]) {
    if (!existsSync(f)) throw new Error(`${caller}: ${dir} is not a BEIR folder: missing ${f}`);
  }

  const fc = new FieldReader(caller, corpusFile);
  const corpus: CorpusDoc[] = [];
  const docLine = new Map<string, number>();
  for (const rec of readJsonl(corpusFile, caller)) {
    const id = fc.id(rec, '_id');
    const prev = docLine.get(id);
    if (prev !== undefined) throw new Error(`${caller}: ${corpusFile}:${rec.line}: field "_id": duplicate id "${id}" (first at line ${prev})`);
    docLine.set(id, rec.line);
    corpus.push({ id, title: fc.optionalString(rec, 'title'), text: fc.string(rec, 'text') });
  }

  const fq = new FieldReader(caller, queriesFile);
  const queries: Query[] = [];
  const queryLine = new Map<string, number>();
  for (const rec of readJsonl(queriesFile, caller)) {
    const id = fq.id(rec, '_id');
    const prev = queryLine.get(id);
    if (prev !== undefined) throw new Error(`${caller}: ${queriesFile}:${rec.line}: field "_id": duplicate id "${id}" (first at line ${prev})`);
    queryLine.set(id, rec.line);
    queries.push({ id, text: fq.string(rec, 'text') });
  }

  const qrels = new Map<string, Map<string, number>>();
  let dropped = 0;
  const lines = readText(qrelsFile, caller).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const cols = raw.split('\t');
    const where = `${caller}: ${qrelsFile}:${i + 1}`;
    if (cols.length !== 3) throw new Error(`${where}: expected 3 tab-separated columns (query-id, corpus-id, score), found ${cols.length}`);
    const [qid, did, scoreText] = cols as [string, string, string];
    const score = Number(scoreText);
    if (scoreText.trim() === '' || !Number.isFinite(score)) {
      if (i === firstNonBlank(lines)) continue; // header line
      throw new Error(`${where}: column "score": expected a number, found ${JSON.stringify(scoreText)}`);
    }
    const unknown = !queryLine.has(qid) ? `query-id "${qid}" is not in ${queriesFile}` : !docLine.has(did) ? `corpus-id "${did}" is not in ${corpusFile}` : '';
    if (unknown) {
      if (strict) throw new Error(`${where}: ${unknown} (pass strict: false to drop such qrels)`);
      dropped++;
      continue;
    }
    let rel = qrels.get(qid);
    if (!rel) qrels.set(qid, (rel = new Map()));
    rel.set(did, score);
  }
  const task = retrievalTask(options.name ?? 'retrieval', corpus, queries, qrels, split, dir);
  return { ...task, droppedQrels: dropped };
}

function firstNonBlank(lines: string[]): number {
  return lines.findIndex((l) => l.trim() !== '');
}

/** The text encoded for a document: BEIR/MTEB's `title + ' ' + text`, just `text` when the title is empty. */
export function docText(doc: CorpusDoc): string {
  return doc.title ? `${doc.title} ${doc.text}` : doc.text;
}

/**
 * What a searcher needs per evaluated query. Only queries with at least one qrel of gain > 0 are
 * evaluated (BEIR/pytrec_eval average over judged queries); the rest are counted in `skipped`.
 */
export interface RetrievalPlan {
  task: RetrievalTask;
  /** Task query indices that are evaluated [E]. */
  queries: number[];
  /** Per evaluated query: corpus index of the doc whose _id equals the query _id, or -1 [E]. */
  exclude: Int32Array;
  /** Per evaluated query: corpus index -> qrel gain (gains <= 0 kept for completeness) [E]. */
  gains: Map<number, number>[];
  skipped: number;
  ignoreIdenticalIds: boolean;
}

/**
 * Resolves qrels to corpus indices. With `ignoreIdenticalIds` (BEIR's option, required for
 * cmteb-lite, whose query ids are the ids of their own text in the corpus) each query's own
 * document is excluded from its ranking.
 */
export function planRetrieval(task: RetrievalTask, ignoreIdenticalIds = true): RetrievalPlan {
  const docIndex = new Map<string, number>();
  task.corpus.forEach((d, i) => docIndex.set(d.id, i));
  const queries: number[] = [];
  const exclude: number[] = [];
  const gains: Map<number, number>[] = [];
  let skipped = 0;
  task.queries.forEach((q, qi) => {
    const rel = task.qrels.get(q.id);
    const g = new Map<number, number>();
    let positive = false;
    for (const [did, gain] of rel ?? []) {
      const di = docIndex.get(did);
      if (di === undefined) throw new Error(`planRetrieval(${task.name}): qrels of query "${q.id}" name doc "${did}", which is not in the corpus`);
      g.set(di, gain);
      if (gain > 0) positive = true;
    }
    if (!positive) {
      skipped++;
      return;
    }
    queries.push(qi);
    exclude.push(ignoreIdenticalIds ? (docIndex.get(q.id) ?? -1) : -1);
    gains.push(g);
  });
  return { task, queries, exclude: Int32Array.from(exclude), gains, skipped, ignoreIdenticalIds };
}

/** The pessimistic tie key for evaluated query e: a doc's gain (relevant docs lose ties). */
export function tieKeyFor(plan: RetrievalPlan, e: number): (doc: number) => number {
  const g = plan.gains[e]!;
  return (doc) => Math.max(0, g.get(doc) ?? 0);
}

/** How deep a searcher must rank for `scoreRetrieval` (Recall@100). */
export const RETRIEVAL_DEPTH = 100;

/**
 * nDCG@10, Recall@10, Recall@100 and MRR@10 (×100). `rankings[e]` holds corpus indices best first
 * for evaluated query e (at least 100 deep when the corpus allows), ties already ordered by
 * `tieKeyFor`. The query's own doc is dropped here too when ignoreIdenticalIds is set, as BEIR does.
 */
export function scoreRetrieval(plan: RetrievalPlan, rankings: ArrayLike<number>[]): RetrievalScores {
  if (rankings.length !== plan.queries.length) {
    throw new Error(`scoreRetrieval(${plan.task.name}): expected ${plan.queries.length} rankings (evaluated queries), found ${rankings.length}`);
  }
  const ndcg: number[] = [];
  const r10: number[] = [];
  const r100: number[] = [];
  const mrr: number[] = [];
  rankings.forEach((ranking, e) => {
    const g = plan.gains[e]!;
    const ex = plan.exclude[e]!;
    const ranked: number[] = [];
    for (let i = 0; i < ranking.length && ranked.length < RETRIEVAL_DEPTH; i++) {
      const doc = ranking[i]!;
      if (doc === ex) continue;
      ranked.push(Math.max(0, g.get(doc) ?? 0));
    }
    const qrelGains = [...g.values()];
    const relevant = qrelGains.filter((x) => x > 0).length;
    ndcg.push(ndcgAtK(ranked, qrelGains, 10));
    r10.push(recallAtK(ranked, relevant, 10));
    r100.push(recallAtK(ranked, relevant, 100));
    mrr.push(mrrAtK(ranked, 10));
  });
  return {
    ndcg10: 100 * meanDefined(ndcg).mean,
    recall10: 100 * meanDefined(r10).mean,
    recall100: 100 * meanDefined(r100).mean,
    mrr10: 100 * meanDefined(mrr).mean,
    queries: plan.queries.length,
    corpus: plan.task.corpus.length,
    skipped: plan.skipped,
    ignoreIdenticalIds: plan.ignoreIdenticalIds,
  };
}
