import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bm25Index, charTokens, evaluateBm25, rerankingTask, retrievalTask, stsTask } from '../src/index.js';

/** Textbook BM25 recomputed from raw counts for every call (no precomputed weights). */
function refBm25(docs: string[][], query: string[], d: number, k1 = 1.2, b = 0.75): number {
  const N = docs.length;
  const avgdl = docs.reduce((s, x) => s + x.length, 0) / N;
  let score = 0;
  for (const t of query) {
    const n = docs.filter((x) => x.includes(t)).length;
    const tf = docs[d]!.filter((x) => x === t).length;
    if (tf === 0) continue; // an absent term adds nothing (and 0/0 when k1 = 0)
    const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5));
    score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * docs[d]!.length) / avgdl));
  }
  return score;
}

describe('charTokens', () => {
  it('characters then bigrams, lower-cased, whitespace dropped, astral characters whole', () => {
    expect(charTokens('Ab 中文')).toEqual(['a', 'b', '中', '文', 'ab', 'b中', '中文']);
    expect(charTokens('𠮷野', { bigrams: false })).toEqual(['𠮷', '野']);
    expect(charTokens('Ab c', { lowercase: false, dropWhitespace: false, unigrams: false })).toEqual(['Ab', 'b ', ' c']);
    expect(charTokens('')).toEqual([]);
  });
});

describe('Bm25Index', () => {
  const docs = [['a', 'b'], ['a', 'c', 'c'], ['d'], []];

  it('hand-computed case: N=4, avgdl=1.5', () => {
    const idx = new Bm25Index(docs);
    // idf(a): n=2 -> ln(1 + 2.5/2.5) = ln 2; doc 1 has tf(a)=1, |d|=3: K = 1.2(0.25 + 0.75*3/1.5) = 2.1
    expect(idx.idf('a')).toBeCloseTo(Math.log(2), 15);
    expect(idx.idf('zzz')).toBe(0);
    const idfC = Math.log(1 + 3.5 / 1.5);
    const expected1 = (Math.log(2) * 2.2) / (1 + 2.1) + (idfC * 2 * 2.2) / (2 + 2.1);
    expect(idx.scoreDoc(['a', 'c'], 1)).toBeCloseTo(expected1, 14);
    expect(idx.scoreAll(['a', 'c'])[1]).toBeCloseTo(expected1, 14);
    expect(idx.scoreAll(['zzz'])).toEqual(new Float64Array(4));
    expect(() => idx.scoreDoc(['a'], 4)).toThrow(/doc 4 out of range \[0, 4\)/);
    expect(() => new Bm25Index([])).toThrow(/no documents/);
  });

  it('property: scoreAll and scoreDoc equal the textbook formula; repeated query tokens count', () => {
    const tok = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
      fc.property(fc.array(fc.array(tok, { maxLength: 8 }), { minLength: 1, maxLength: 8 }), fc.array(tok, { maxLength: 6 }), fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (ds, q, k1, b) => {
        fc.pre(ds.some((d) => d.length > 0));
        const idx = new Bm25Index(ds, { k1, b });
        const all = idx.scoreAll(q);
        ds.forEach((_, d) => {
          const want = refBm25(ds, q, d, k1, b);
          expect(all[d]).toBeCloseTo(want, 10);
          expect(idx.scoreDoc(q, d)).toBeCloseTo(want, 10);
        });
      }),
    );
  });
});

describe('evaluateBm25', () => {
  it('runs every task of a small suite with the documented defaults', () => {
    const suite = {
      name: 'mini',
      root: '',
      sts: stsTask('sts', [
        { sentence1: '一个人在弹吉他', sentence2: '一个人在弹吉他。', score: 5 },
        { sentence1: '一只猫在睡觉', sentence2: '一只狗在跑步', score: 1 },
        { sentence1: '男人在切洋葱', sentence2: '一个男人在切洋葱', score: 4 },
      ]),
      reranking: rerankingTask('rr', [{ query: '女人在跳舞', positive: ['一个女人在跳舞'], negative: ['男人在开车', '猫在睡觉'] }]),
      retrieval: retrievalTask(
        'ret',
        [
          { id: 'd1', title: '', text: '一个女人在跳舞' },
          { id: 'd2', title: '', text: '女人在跳舞' },
          { id: 'd3', title: '', text: '男人在开车' },
        ],
        [{ id: 'd2', text: '女人在跳舞' }],
        new Map([['d2', new Map([['d1', 1]])]]),
      ),
    };
    const r = evaluateBm25(suite);
    expect(r.embedder).toBe('BM25 chars+bigrams');
    expect(r.sts!.spearman).toBeCloseTo(100, 10); // the overlap order equals the gold order here
    expect(r.reranking!.map).toBe(100);
    // Without exclusion the query's own text (d2) is first; with it, d1 is.
    expect(r.retrieval!.mrr10).toBe(100);
    expect(evaluateBm25(suite, { ignoreIdenticalIds: false, tasks: ['retrieval'] }).retrieval!.mrr10).toBe(50);
    expect(r.meta).toMatchObject({ k1: 1.2, b: 0.75, stsSimilarity: 'symmetric' });
  });
});
