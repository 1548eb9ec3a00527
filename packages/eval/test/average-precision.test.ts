import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averagePrecision } from '../src/index.js';

/**
 * Independent reference: for each distinct score t (descending), precision and recall of the set
 * {score >= t}, counted by brute force; AP = Σ (R_t − R_prev)·P_t.
 */
function refAP(labels: number[], scores: number[]): number {
  const P = labels.filter((l) => l).length;
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  let ap = 0;
  let prev = 0;
  for (const t of thresholds) {
    const sel = scores.map((s, i) => (s >= t ? i : -1)).filter((i) => i >= 0);
    const tp = sel.filter((i) => labels[i]).length;
    const r = tp / P;
    ap += (r - prev) * (tp / sel.length);
    prev = r;
  }
  return ap;
}

describe('averagePrecision (sklearn average_precision_score)', () => {
  it('hand-computed lists', () => {
    // ranks 1 and 3 relevant: (1/1 + 2/3) / 2
    expect(averagePrecision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6])).toBeCloseTo((1 + 2 / 3) / 2, 15);
    // one relevant at rank 3
    expect(averagePrecision([0, 0, 1], [3, 2, 1])).toBeCloseTo(1 / 3, 15);
    // boolean labels work the same
    expect(averagePrecision([false, true], [2, 1])).toBeCloseTo(0.5, 15);
  });

  it("sklearn's docstring example gives 0.8333…", () => {
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.8333333333333333, 15);
  });

  it('tied scores form one threshold (no optimistic order inside a tie)', () => {
    // threshold 0.5: tp 1 of 2 seen, R .5, P .5; threshold 0.2: tp 2 of 3, R 1, P 2/3
    expect(averagePrecision([1, 0, 1], [0.5, 0.5, 0.2])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 15);
    // all tied: precision = prevalence
    expect(averagePrecision([1, 0, 0, 0], [1, 1, 1, 1])).toBeCloseTo(0.25, 15);
  });

  it('is NaN without a positive, and checks its input', () => {
    expect(averagePrecision([0, 0], [1, 2])).toBeNaN();
    expect(() => averagePrecision([1, 0], [1])).toThrow(/labels has 2 entries, scores has 1/);
    expect(() => averagePrecision([1, 0], [1, Infinity])).toThrow(/scores\[1\] is not finite/);
  });

  const lists = fc.integer({ min: 1, max: 30 }).chain((n) =>
    fc.tuple(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n })),
  );

  it('property: in [0, 1] and equal to a brute-force reference (scores with ties)', () => {
    fc.assert(
      fc.property(lists, ([labels, scores]) => {
        fc.pre(labels.some((l) => l));
        const ap = averagePrecision(labels, scores);
        expect(ap).toBeGreaterThanOrEqual(0);
        expect(ap).toBeLessThanOrEqual(1 + 1e-12);
        expect(ap).toBeCloseTo(refAP(labels, scores), 12);
      }),
    );
  });

  it('property: a perfect ranking gives 1', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (labels) => {
        fc.pre(labels.some((l) => l));
        const scores = labels.map((l, i) => (l ? 100 : 0) + i * 0.01);
        expect(averagePrecision(labels, scores)).toBeCloseTo(1, 15);
      }),
    );
  });
});
