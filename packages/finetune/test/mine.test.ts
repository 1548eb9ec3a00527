import { describe, expect, it } from 'vitest';
import { bm25Ranker, mineHardNegatives, type Ranker } from '../src/index.js';

describe('mineHardNegatives', () => {
  const triples = [
    { query: 'q0', pos: ['a'], neg: ['b', 'c'] },
    { query: 'q1', pos: ['d'], neg: ['e'] },
  ];
  // a scripted ranking: the pool in a fixed order, so which ranks are sampled is known
  const scripted: Ranker = (queries, pool) => queries.map(() => Int32Array.from(pool.keys()));

  it('drops the positives and the query, skips the first rangeStart ranks, samples only from [start, end)', () => {
    const pool = ['a', 'q0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'd'];
    const { triples: out, report } = mineHardNegatives(triples, scripted, { rangeStart: 2, rangeEnd: 5, count: 3, seed: 1, pool });
    // q0: ranking without a, q0 -> x1..x6, d; ranks 2..4 are x3, x4, x5
    expect([...out[0].neg].sort()).toEqual(['x3', 'x4', 'x5']);
    // q1: without d -> a, q0, x1, ...; ranks 2..4 are x1, x2, x3
    expect([...out[1].neg].sort()).toEqual(['x1', 'x2', 'x3']);
    expect(out[0].pos).toEqual(['a']);
    expect(report).toEqual({ toppedUp: 0, poolSize: 9 });
  });

  it('tops up from the pool when the range holds too few, never with a positive', () => {
    const { triples: out, report } = mineHardNegatives(triples, scripted, { rangeStart: 3, rangeEnd: 6, count: 4, seed: 2 });
    // default pool: a, b, c, d, e -> q0 ranks without a: b, c, d, e -> range [3, 6) = e only
    expect(out[0].neg).toHaveLength(4);
    expect(out[0].neg).not.toContain('a');
    expect(new Set(out[0].neg).size).toBe(4);
    expect(report.toppedUp).toBe(2);
  });

  it('BM25 ranks lexical matches first', () => {
    const rank = bm25Ranker();
    const [order] = rank(['猫在睡觉'], ['今天下雨了', '一只猫在沙发上睡觉', '狗在跑'], 3);
    expect(order[0]).toBe(1);
  });

  it('rejects an empty range', () => {
    expect(() => mineHardNegatives(triples, scripted, { rangeStart: 5, rangeEnd: 5, count: 1, seed: 0 })).toThrow(/rangeStart < rangeEnd, got 5-5/);
  });
});
