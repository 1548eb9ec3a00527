import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dcgAtK, meanDefined, mrrAtK, ndcgAtK, pessimisticOrder, recallAtK } from '../src/index.js';

describe('ranking metrics', () => {
  it('nDCG on the textbook example (Wikipedia "Discounted cumulative gain")', () => {
    // Ranked gains 3,2,3,0,1,2: DCG6 = 6.861; the judged set also holds a 3 and a 2 that were not
    // retrieved, so the ideal top 6 is 3,3,3,2,2,2 with IDCG6 = 8.740; nDCG6 = 0.785.
    const ranked = [3, 2, 3, 0, 1, 2];
    expect(dcgAtK(ranked, 6)).toBeCloseTo(6.861, 3);
    expect(ndcgAtK(ranked, [3, 2, 3, 0, 1, 2, 3, 2], 6)).toBeCloseTo(0.785, 3);
  });

  it('nDCG@10 cuts both the run and the ideal at 10, and uses log2(rank+1)', () => {
    // one relevant doc (gain 1) at rank 3: 1/log2(4) = 0.5
    expect(ndcgAtK([0, 0, 1], [1], 10)).toBeCloseTo(0.5, 15);
    // two relevant, found at ranks 1 and 11: only rank 1 counts; IDCG = 1 + 1/log2(3)
    const ranked = [1, ...Array(9).fill(0), 1];
    expect(ndcgAtK(ranked, [1, 1], 10)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 15);
    expect(ndcgAtK([0, 0], [0], 10)).toBeNaN();
  });

  it('MRR@10 and Recall@k by hand', () => {
    expect(mrrAtK([0, 0, 1, 1], 10)).toBeCloseTo(1 / 3, 15);
    expect(mrrAtK([...Array(10).fill(0), 1], 10)).toBe(0);
    expect(mrrAtK([2], 10)).toBe(1);
    expect(recallAtK([1, 0, 1, 0], 3, 2)).toBeCloseTo(1 / 3, 15);
    expect(recallAtK([1, 0, 1, 0], 3, 10)).toBeCloseTo(2 / 3, 15);
    expect(recallAtK([1], 0, 10)).toBeNaN();
  });

  it('pessimistic order puts relevant items after equal-scored non-relevant ones', () => {
    // scores: 0.9 (rel), 0.5 (rel), 0.5 (non), 0.5 (non), 0.1 (non)
    const order = pessimisticOrder([0.9, 0.5, 0.5, 0.5, 0.1], [1, 1, 0, 0, 0]);
    expect(order).toEqual([0, 2, 3, 1, 4]);
    // a lone tied relevant at 0.5 behind two non-relevant: MRR = 1/3
    const o2 = pessimisticOrder([0.5, 0.5, 0.5], [1, 0, 0]);
    expect(mrrAtK(o2.map((i) => [1, 0, 0][i]!), 10)).toBeCloseTo(1 / 3, 15);
  });

  it('meanDefined skips NaN', () => {
    expect(meanDefined([1, NaN, 3])).toEqual({ mean: 2, count: 2 });
    expect(meanDefined([NaN]).mean).toBeNaN();
  });

  it('property: nDCG in [0, 1], and 1 for the ideal order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 15 }), (gains, k) => {
        fc.pre(gains.some((g) => g > 0));
        const v = ndcgAtK(gains, gains, k);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1 + 1e-12);
        const ideal = [...gains].sort((a, b) => b - a);
        expect(ndcgAtK(ideal, gains, k)).toBeCloseTo(1, 14);
        expect(mrrAtK(ideal, k)).toBe(1);
      }),
    );
  });
});
