import { describe, expect, it } from 'vitest';
import { evaluate, rerankingTask, retrievalTask, stsTask, type TaskSuite } from '../src/index.js';

const deg = (a: number) => Float32Array.from([Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]);

/** Every text of the toy suite has a fixed 2-d vector, so every cosine is known by construction. */
const VECTORS: Record<string, Float32Array> = {
  // STS: cos(a_i, b_i) decreases with the angle 0, 20, 10, 30 degrees
  a0: deg(0), a1: deg(0), a2: deg(0), a3: deg(0),
  b0: deg(0), b1: deg(20), b2: deg(10), b3: deg(30),
  // reranking
  q1: Float32Array.from([1, 0]), p1: Float32Array.from([0.6, 0.8]), n1: Float32Array.from([0.8, 0.6]), n2: Float32Array.from([0, 1]),
  q2: Float32Array.from([0, 1]), x: Float32Array.from([1, 0]),
  // retrieval
  T1: deg(0), T2: deg(10), T3: deg(20), T4: deg(90), T9: deg(45), T2b: deg(10),
};

function toySuite(): TaskSuite {
  return {
    name: 'toy',
    root: '',
    // gold 4,3,2,1 vs cosine ranks 4,2,3,1: d^2 sum = 2, rho = 1 - 6*2/(4*15) = 0.8
    sts: stsTask('sts', [0, 1, 2, 3].map((i) => ({ sentence1: `a${i}`, sentence2: `b${i}`, score: 4 - i }))),
    reranking: rerankingTask('rr', [
      { query: 'q1', positive: ['p1'], negative: ['n1', 'n2'] }, // order n1, p1, n2: AP 1/2, RR 1/2
      { query: 'q2', positive: ['n2'], negative: ['p1', 'x'] }, // n2 first: AP 1, RR 1
      { query: 'q1', positive: ['p1'], negative: [] }, // skipped (no negative), as MTEB does
    ]),
    retrieval: retrievalTask(
      'ret',
      [
        { id: 'd1', title: '', text: 'T1' },
        { id: 'd2', title: '', text: 'T2' },
        { id: 'd3', title: '', text: 'T3' },
        { id: 'd4', title: '', text: 'T4' },
      ],
      [
        { id: 'd1', text: 'T1' }, // its own doc is d1
        { id: 'q2', text: 'T4' },
        { id: 'q3', text: 'T9' }, // no qrels: skipped
      ],
      new Map([
        ['d1', new Map([['d3', 1]])],
        ['q2', new Map([['d4', 2], ['d2', 1]])],
      ]),
    ),
  };
}

function spyEmbedder(batches: string[][]) {
  return {
    name: 'toy',
    embed: async (texts: string[]) => {
      batches.push(texts);
      return texts.map((t) => {
        const v = VECTORS[t];
        if (!v) throw new Error(`toy embedder: unknown text ${t}`);
        return v;
      });
    },
  };
}

describe('evaluate', () => {
  it('scores the toy suite to hand-computed values (x100)', async () => {
    const r = await evaluate(toySuite(), spyEmbedder([]));
    expect(r.embedder).toBe('toy');
    expect(r.scale).toBe(100);
    expect(r.sts!.spearman).toBeCloseTo(80, 10);
    expect(r.reranking).toMatchObject({ queries: 2, skipped: 1 });
    expect(r.reranking!.map).toBeCloseTo(75, 10);
    expect(r.reranking!.mrr10).toBeCloseTo(75, 10);
    // q d1: d1 excluded, ranking d2, d3(rel), d4 -> nDCG 1/log2(3), RR 1/2.
    // q2: d4 (gain 2), d3, d2 (gain 1), d1 -> DCG 2 + 1/2, IDCG 2 + 1/log2(3), RR 1.
    const ndcg = (1 / Math.log2(3) + 2.5 / (2 + 1 / Math.log2(3))) / 2;
    expect(r.retrieval!.ndcg10).toBeCloseTo(100 * ndcg, 10);
    expect(r.retrieval!.mrr10).toBeCloseTo(75, 10);
    expect(r.retrieval!.recall10).toBeCloseTo(100, 10);
    expect(r.retrieval!.recall100).toBeCloseTo(100, 10);
    expect(r.retrieval).toMatchObject({ queries: 2, skipped: 1, corpus: 4, ignoreIdenticalIds: true });
    expect(r.meta.dim).toBe(2);
  });

  it('ignoreIdenticalIds: false leaves the query’s own doc in its ranking', async () => {
    const r = await evaluate(toySuite(), spyEmbedder([]), { ignoreIdenticalIds: false, tasks: ['retrieval'] });
    // q d1 now ranks d1 (gain 0), d2, d3: nDCG 1/log2(4) = 0.5, RR 1/3
    const ndcg = (0.5 + 2.5 / (2 + 1 / Math.log2(3))) / 2;
    expect(r.retrieval!.ndcg10).toBeCloseTo(100 * ndcg, 10);
    expect(r.retrieval!.mrr10).toBeCloseTo((100 * (1 / 3 + 1)) / 2, 10);
    expect(r.retrieval!.ignoreIdenticalIds).toBe(false);
    expect(r.sts).toBeUndefined();
  });

  it('ties are pessimistic: a relevant doc ranks after an equal-scored non-relevant one', async () => {
    const suite: TaskSuite = {
      name: 'ties',
      root: '',
      // one threshold holding both candidates: AP = P = 1/2; pessimistic rank 2: RR = 1/2
      reranking: rerankingTask('ties', [{ query: 'T1', positive: ['T2'], negative: ['T2b'] }]),
      retrieval: retrievalTask(
        'ties',
        [
          { id: 'rel', title: '', text: 'T2' }, // lower index, but relevant
          { id: 'dup', title: '', text: 'T2b' }, // same vector as T2
          { id: 'far', title: '', text: 'T4' },
        ],
        [{ id: 'q', text: 'T1' }],
        new Map([['q', new Map([['rel', 1]])]]),
      ),
    };
    const r = await evaluate(suite, spyEmbedder([]));
    expect(r.reranking!.map).toBeCloseTo(50, 10);
    expect(r.reranking!.mrr10).toBeCloseTo(50, 10);
    expect(r.retrieval!.mrr10).toBeCloseTo(50, 10);
    expect(r.retrieval!.ndcg10).toBeCloseTo(100 / Math.log2(3), 10);
  });

  it('batches by batchSize and embeds each distinct text once across tasks', async () => {
    const batches: string[][] = [];
    const r = await evaluate(toySuite(), spyEmbedder(batches), { batchSize: 3 });
    const all = batches.flat();
    expect(batches.every((b) => b.length >= 1 && b.length <= 3)).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(['T1', 'T2', 'T3', 'T4', 'a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3', 'n1', 'n2', 'p1', 'q1', 'q2', 'x']);
    expect(r.timings.sts!.encodedTexts + r.timings.reranking!.encodedTexts + r.timings.retrieval!.encodedTexts).toBe(18);
    expect(r.timings.totalMs).toBeGreaterThan(0);
  });

  it('routes queries through embedQueries when given; accepts a bare function', async () => {
    const seen: string[] = [];
    const base = spyEmbedder([]);
    const r = await evaluate(toySuite(), { ...base, embedQueries: (t: string[]) => (seen.push(...t), base.embed(t)) }, { tasks: ['reranking', 'retrieval'] });
    expect(seen.sort()).toEqual(['T1', 'T4', 'q1', 'q2']); // q3 has no qrels, so it is never embedded
    expect(r.reranking!.map).toBeCloseTo(75, 10);
    const bare = await evaluate(toySuite(), base.embed, { tasks: ['sts'] });
    expect(bare.embedder).toBe('embedder');
    expect(bare.sts!.spearman).toBeCloseTo(80, 10);
  });

  it('rejects bad embeddings with the batch, item and what was wrong', async () => {
    const suite = toySuite();
    const wrongDim = { name: 'w', embed: (t: string[]) => t.map((_, i) => new Float32Array(i === 1 ? 3 : 2).fill(1)) };
    await expect(evaluate(suite, wrongDim)).rejects.toThrow(/embed\(w\) batch 0 item 1: vector has 3 dims, expected 2/);
    const nan = { name: 'n', embed: (t: string[]) => t.map(() => Float32Array.from([1, NaN])) };
    await expect(evaluate(suite, nan)).rejects.toThrow(/item 0: value \[1\] is NaN; embeddings must be finite/);
    const short = { name: 's', embed: (t: string[]) => t.slice(1).map(() => new Float32Array(2)) };
    await expect(evaluate(suite, short, { batchSize: 4 })).rejects.toThrow(/embed\(s\) batch 0: returned 3 vectors for 4 texts/);
    await expect(evaluate(suite, spyEmbedder([]), { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(evaluate({ name: 'empty', root: '' }, spyEmbedder([]), { tasks: ['sts'] })).rejects.toThrow(/suite "empty" has no sts task/);
  });
});

describe('STS with an undefined correlation', () => {
  it('constant similarities or constant gold scores are errors naming the task, never a NaN score', async () => {
    const suite: TaskSuite = { name: 's', root: '', sts: stsTask('tiny-sts', [0, 1, 2].map((i) => ({ sentence1: `a${i}`, sentence2: `b${i}`, score: i }))) };
    const same = { name: 'same', embed: (t: string[]) => t.map(() => Float32Array.from([1, 2])) };
    await expect(evaluate(suite, same)).rejects.toThrow(/scoreSts\(tiny-sts\): all 3 pair similarities are 0\.99999\d+, so Spearman is undefined/);
    const flat: TaskSuite = { name: 's', root: '', sts: stsTask('flat', [0, 1].map((i) => ({ sentence1: `a${i}`, sentence2: `b${i}`, score: 3 }))) };
    const varied = { name: 'v', embed: (t: string[]) => t.map((s) => Float32Array.from([s.length, s.charCodeAt(1)])) };
    await expect(evaluate(flat, varied)).rejects.toThrow(/scoreSts\(flat\): every gold score is 3/);
  });
});
