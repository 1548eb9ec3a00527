/**
 * Loaders and the BM25 baseline on the real ../shared/cmteb-lite files (read in place, never
 * copied). Skipped, with the reason printed, where that folder is absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateBm25, loadSuite, planRetrieval, type TaskSuite } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../../shared/cmteb-lite', import.meta.url));
const present = existsSync(ROOT);
if (!present) console.warn(`[eval] cmteb-lite tests skipped: ${ROOT} not found (the shared data folder sits beside the repo)`);

describe.skipIf(!present)(`cmteb-lite at ${ROOT}`, () => {
  let suite: TaskSuite;
  const load = () => (suite ??= loadSuite(ROOT));

  it('loaders read the counts the README states', () => {
    const s = load();
    expect(s.name).toBe('cmteb-lite');
    const sts = s.sts!;
    expect(sts.gold.length).toBe(1361);
    const hist = new Map<number, number>();
    for (const g of sts.gold) hist.set(g, (hist.get(g) ?? 0) + 1);
    expect([0, 1, 2, 3, 4, 5].map((g) => hist.get(g))).toEqual([241, 193, 261, 330, 239, 97]);

    const rr = s.reranking!;
    expect(rr.instances.length).toBe(1000);
    expect(rr.instances.reduce((n, x) => n + x.positive.length, 0)).toBe(1019);
    expect(rr.instances.reduce((n, x) => n + x.negative.length, 0)).toBe(10053);

    const ret = s.retrieval!;
    expect(ret.queries.length).toBe(291);
    expect(ret.corpus.length).toBe(7456);
    const perQuery = [...ret.qrels.values()].map((m) => m.size);
    expect(perQuery.reduce((a, b) => a + b, 0)).toBe(318);
    const byCount = new Map<number, number>();
    for (const n of perQuery) byCount.set(n, (byCount.get(n) ?? 0) + 1);
    expect([1, 2, 3, 6].map((n) => byCount.get(n))).toEqual([271, 16, 3, 1]);
    // Every query _id names its own text in the corpus: what ignore_identical_ids is for.
    const text = new Map(ret.corpus.map((d) => [d.id, d.text]));
    expect(ret.queries.every((q) => text.get(q.id) === q.text)).toBe(true);
    const plan = planRetrieval(ret);
    expect(plan.queries.length).toBe(291);
    expect(Array.from(plan.exclude).every((i) => i >= 0)).toBe(true);
  });

  it('BM25 chars+bigrams reproduces the README reference row to 2 decimals', () => {
    const r = evaluateBm25(load());
    const near = (x: number, ref: number) => expect(Math.abs(x - ref)).toBeLessThan(0.005 + 1e-9);
    near(r.sts!.spearman, 64.77);
    near(r.reranking!.map, 86.07);
    near(r.reranking!.mrr10, 86.19);
    near(r.retrieval!.ndcg10, 83.29);
    near(r.retrieval!.recall10, 92.27);
    near(r.retrieval!.mrr10, 81.23);
    expect(r.reranking).toMatchObject({ queries: 1000, skipped: 0 });
    expect(r.retrieval).toMatchObject({ queries: 291, skipped: 0, corpus: 7456 });
  });

  it('without ignore_identical_ids the query text itself takes rank 1, so MRR@10 falls to <= 50', () => {
    const r = evaluateBm25(load(), { tasks: ['retrieval'], ignoreIdenticalIds: false });
    expect(r.retrieval!.mrr10).toBeLessThanOrEqual(50);
  });
});
