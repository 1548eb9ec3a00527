import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averageRanks, pearson, spearman } from '../src/index.js';

/** Reference written independently: rank_i = 1 + #{j: x_j < x_i} + (#{j != i: x_j = x_i}) / 2, O(n^2). */
function refSpearman(x: number[], y: number[]): number {
  const rank = (v: number[]) => v.map((a) => 1 + v.filter((b) => b < a).length + (v.filter((b) => b === a).length - 1) / 2);
  const rx = rank(x);
  const ry = rank(y);
  const m = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
  const mx = m(rx);
  const my = m(ry);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('spearman', () => {
  it('average ranks for ties (hand computed)', () => {
    expect(Array.from(averageRanks([10, 20, 20, 20, 30]))).toEqual([1, 3, 3, 3, 5]);
    expect(Array.from(averageRanks([0.5, 0.1, 0.5]))).toEqual([2.5, 1, 2.5]);
  });

  it('matches hand calculations with ties', () => {
    // ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; sxy = 4.5, sxx = 4.5, syy = 5 -> 4.5 / sqrt(22.5)
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 14);
    // ranks x = [1, 3, 3, 3, 5], y = [3, 1, 2, 5, 4]; sxy = 2, sxx = 8, syy = 10 -> 2 / sqrt(80)
    expect(spearman([10, 20, 20, 20, 30], [3, 1, 2, 5, 4])).toBeCloseTo(2 / Math.sqrt(80), 14);
  });

  it('matches scipy.stats.spearmanr known values (scipy 1.17)', () => {
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505139, 14);
    expect(spearman([0.1, 0.5, 0.5, 0.9, 0.2, 0.2], [0, 2, 2, 5, 1, 3])).toBeCloseTo(0.7463517925331651, 14);
  });

  it('is NaN for a constant input, like scipy', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [4, 4, 4])).toBeNaN();
  });

  it('rejects mismatched, short or non-finite input with a message', () => {
    expect(() => spearman([1, 2], [1])).toThrow(/spearman: x has 2 values, y has 1/);
    expect(() => spearman([1], [1])).toThrow(/at least 2/);
    expect(() => spearman([1, NaN], [1, 2])).toThrow(/value 1 is not finite/);
  });

  const tiedArrays = fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 3, maxLength: 40 }).filter((a) => new Set(a).size > 1);

  it('property: a strictly increasing transform gives 1, a decreasing one -1', () => {
    fc.assert(
      fc.property(tiedArrays, (x) => {
        expect(spearman(x, x.map((v) => Math.exp(v) + v ** 3))).toBeCloseTo(1, 12);
        expect(spearman(x, x.map((v) => -2 * v + 7))).toBeCloseTo(-1, 12);
      }),
    );
  });

  it('property: equals an O(n^2) reference on data with many ties', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 40 }).chain((n) => fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 0, max: 6 }), { minLength: n, maxLength: n }))), ([x, y]) => {
        fc.pre(new Set(x).size > 1 && new Set(y).size > 1);
        expect(spearman(x, y)).toBeCloseTo(refSpearman(x, y), 12);
      }),
    );
  });
});
