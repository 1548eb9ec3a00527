/**
 * InfoNCE and CoSENT against float64 references written out here from their definitions, and
 * their input gradients against central finite differences of those references.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@retro/tensor';
import { cosent, infoNce, l2Normalize, pool } from '../src/index.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randomRows(rows: number, dim: number, seed: number): number[][] {
  const r = lcg(seed);
  return Array.from({ length: rows }, () => Array.from({ length: dim }, () => 2 * r()));
}

const unit = (v: number[]): number[] => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
};
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
const logSumExp = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** float64 InfoNCE from its definition: mean over queries of -log softmax(q.p / t)[positive]. */
function infoNceReference(q: number[][], p: number[][], t: number, symmetric: boolean): number {
  const B = q.length;
  const G = p.length / B;
  const qn = q.map(unit);
  const pn = p.map(unit);
  let forward = 0;
  for (let b = 0; b < B; b++) {
    const logits = pn.map((row) => dot(qn[b], row) / t);
    forward += logSumExp(logits) - logits[b * G];
  }
  forward /= B;
  if (!symmetric) return forward;
  let backward = 0;
  for (let b = 0; b < B; b++) {
    const logits = qn.map((row) => dot(pn[b * G], row) / t);
    backward += logSumExp(logits) - logits[b];
  }
  return (forward + backward / B) / 2;
}

/** float64 CoSENT: log(1 + sum over s_i > s_j of exp(lambda (cos_j - cos_i))). */
function cosentReference(a: number[][], b: number[][], gold: number[], lambda: number): number {
  const cos = a.map((row, i) => dot(unit(row), unit(b[i])));
  const terms = [0];
  for (let i = 0; i < cos.length; i++) for (let j = 0; j < cos.length; j++) if (gold[i] > gold[j]) terms.push(lambda * (cos[j] - cos[i]));
  return logSumExp(terms);
}

/** d f / d x[i][j] by central differences in float64. */
function numericGradient(f: (x: number[][]) => number, x: number[][], h = 1e-6): number[][] {
  return x.map((row, i) =>
    row.map((_, j) => {
      const up = x.map((r) => [...r]);
      const down = x.map((r) => [...r]);
      up[i][j] += h;
      down[i][j] -= h;
      return (f(up) - f(down)) / (2 * h);
    }),
  );
}

const leaf = (rows: number[][]): Tensor => tensor(rows.flat(), [rows.length, rows[0].length], { requiresGrad: true });

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  const scaleOf = Math.max(1e-3, ...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]) / scaleOf, `entry ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(tolerance);
}

describe('infoNce', () => {
  it('equals the cross-entropy a float64 reference computes by hand (one query, two passages)', () => {
    // q = (1, 0); p+ = (1, 1)/sqrt2 -> cos 0.7071; p- = (0, 1) -> cos 0; t = 0.5:
    // loss = -log(e^{1.4142} / (e^{1.4142} + e^0)) = log(1 + e^{-1.4142}) = log(1.24312) = 0.21762
    const loss = infoNce(tensor([[1, 0]]), tensor([[3, 3], [0, 2]]), { temperature: 0.5 });
    expect(loss.item()).toBeCloseTo(Math.log(1 + Math.exp(-Math.SQRT2)), 5);
    expect(Math.log(1 + Math.exp(-Math.SQRT2))).toBeCloseTo(0.21762, 4);
  });

  for (const [name, B, G, symmetric, t] of [
    ['in-batch only', 4, 1, false, 0.05],
    ['hard negatives, bge temperature', 3, 3, false, 0.02],
    ['symmetric with hard negatives', 3, 2, true, 0.1],
  ] as const) {
    it(`loss and input gradients match float64 (${name})`, () => {
      const H = 5;
      const q = randomRows(B, H, 11 + B);
      const p = randomRows(B * G, H, 97 + G);
      const qt = leaf(q);
      const pt = leaf(p);
      const loss = infoNce(qt, pt, { temperature: t, symmetric });
      expect(Math.abs(loss.item() - infoNceReference(q, p, t, symmetric))).toBeLessThan(1e-4 * Math.max(1, infoNceReference(q, p, t, symmetric)));
      loss.backward();
      expectClose(qt.grad!.toFloat32Array(), numericGradient((x) => infoNceReference(x, p, t, symmetric), q).flat(), 2e-3);
      expectClose(pt.grad!.toFloat32Array(), numericGradient((x) => infoNceReference(q, x, t, symmetric), p).flat(), 2e-3);
    });
  }

  it('rejects passages that are not whole groups and a non-positive temperature', () => {
    expect(() => infoNce(tensor(randomRows(3, 4, 1).flat(), [3, 4]), tensor(randomRows(4, 4, 2).flat(), [4, 4]), { temperature: 0.02 })).toThrow(/whole number of groups/);
    expect(() => infoNce(tensor([[1, 0]]), tensor([[1, 0]]), { temperature: 0 })).toThrow(/temperature must be > 0/);
  });
});

describe('cosent', () => {
  it('equals log(1 + sum exp) computed by hand for two pairs', () => {
    // pair 0: cos = 1 (same direction), gold 5; pair 1: cos = 0 (orthogonal), gold 1.
    // only (i=0, j=1) is ordered: loss = log(1 + exp(20 * (0 - 1))) = log(1 + e^-20)
    const loss = cosent(tensor([[1, 0], [1, 0]]), tensor([[2, 0], [0, 3]]), [5, 1]);
    expect(loss.item()).toBeCloseTo(Math.log1p(Math.exp(-20)), 7);
    // the wrong order is punished: gold says pair 1 is the similar one -> log(1 + e^{20})
    const wrong = cosent(tensor([[1, 0], [1, 0]]), tensor([[2, 0], [0, 3]]), [1, 5]);
    expect(wrong.item()).toBeCloseTo(Math.log1p(Math.exp(20)), 4);
  });

  it('loss and input gradients match float64 on random pairs with ties in the gold scores', () => {
    const B = 5;
    const H = 4;
    const a = randomRows(B, H, 5);
    const b = randomRows(B, H, 6);
    const gold = [4.2, 1.0, 3.0, 1.0, 0.5];
    const lambda = 7;
    const at = leaf(a);
    const bt = leaf(b);
    const loss = cosent(at, bt, gold, { scale: lambda });
    const ref = cosentReference(a, b, gold, lambda);
    expect(Math.abs(loss.item() - ref) / Math.max(1, ref)).toBeLessThan(1e-5);
    loss.backward();
    expectClose(at.grad!.toFloat32Array(), numericGradient((x) => cosentReference(x, b, gold, lambda), a).flat(), 2e-3);
    expectClose(bt.grad!.toFloat32Array(), numericGradient((x) => cosentReference(a, x, gold, lambda), b).flat(), 2e-3);
  });

  it('names the mismatch when gold scores and pairs differ in number', () => {
    expect(() => cosent(tensor([[1, 0]]), tensor([[1, 0]]), [1, 2])).toThrow(/2 gold scores for 1 pairs/);
  });
});

describe('pool and l2Normalize', () => {
  it('CLS takes row 0; mean averages only real tokens', () => {
    const hidden = tensor([[[1, 2], [3, 4], [100, 100]], [[5, 6], [7, 8], [9, 10]]]);
    const mask = tensor([[1, 1, 0], [1, 1, 1]]);
    expect(Array.from(pool(hidden, mask, 'cls').toFloat32Array())).toEqual([1, 2, 5, 6]);
    expect(Array.from(pool(hidden, mask, 'mean').toFloat32Array())).toEqual([2, 3, 7, 8]);
    expect(Array.from(l2Normalize(tensor([[3, 4]])).toFloat32Array()).map((x) => +x.toFixed(6))).toEqual([0.6, 0.8]);
  });
});
