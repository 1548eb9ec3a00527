/**
 * The evaluation suite, read in place from ../shared/cmteb-lite (never copied), optionally cut to
 * a quick subset (--limit), and the list of every text a model must embed for it.
 */
import { candidates, docText, loadSuite, rerankingTask, retrievalTask, stsTask, type TaskSuite } from '@retro/eval';

/**
 * At most `limit` STS pairs, reranking queries and retrieval queries (the first ones, in file order).
 * The retrieval corpus keeps every judged doc of the kept queries, the queries' own entries (so
 * `ignoreIdenticalIds` still has something to drop) and the first 10 x limit other docs: small
 * enough to be quick, with distractors, but NOT comparable to full-suite numbers.
 */
export function loadExperimentSuite(dir: string, limit?: number): TaskSuite {
  const suite = loadSuite(dir);
  if (limit === undefined) return suite;
  const out: TaskSuite = { name: `${suite.name} (limit ${limit})`, root: suite.root };
  if (suite.sts) {
    const s = suite.sts;
    const n = Math.min(limit, s.gold.length);
    out.sts = stsTask(s.name, Array.from({ length: n }, (_, i) => ({ sentence1: s.sentences1[i]!, sentence2: s.sentences2[i]!, score: s.gold[i]! })), s.source);
  }
  if (suite.reranking) out.reranking = rerankingTask(suite.reranking.name, suite.reranking.instances.slice(0, limit), suite.reranking.source);
  if (suite.retrieval) {
    const r = suite.retrieval;
    const queries = r.queries.filter((q) => r.qrels.has(q.id)).slice(0, limit);
    const keep = new Set<string>();
    const qrels = new Map<string, Map<string, number>>();
    for (const q of queries) {
      keep.add(q.id);
      const judged = r.qrels.get(q.id)!;
      qrels.set(q.id, judged);
      for (const id of judged.keys()) keep.add(id);
    }
    let extra = 10 * limit;
    const corpus = r.corpus.filter((d) => keep.has(d.id) || extra-- > 0);
    out.retrieval = retrievalTask(r.name, corpus, queries, qrels, r.split, r.source);
  }
  return out;
}

/** Every distinct text `evaluate` will ask the embedder for (STS sentences, reranking, retrieval). */
export function suiteTexts(suite: TaskSuite): string[] {
  const texts = new Set<string>();
  if (suite.sts) for (const s of [...suite.sts.sentences1, ...suite.sts.sentences2]) texts.add(s);
  if (suite.reranking) for (const inst of suite.reranking.instances) for (const t of [inst.query, ...candidates(inst)]) texts.add(t);
  if (suite.retrieval) {
    for (const q of suite.retrieval.queries) texts.add(q.text);
    for (const d of suite.retrieval.corpus) texts.add(docText(d));
  }
  return [...texts];
}
