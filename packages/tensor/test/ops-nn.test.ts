/**
 * nn ops against float64 references: embedding (gather / scatter-add, paddingIdx), layerNorm,
 * softmax with an additive mask, dropout, crossEntropy with ignoreIndex.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '../src/index.js';
import { oddDim, seedArb, shapeArb } from './helpers/arb.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp, expectClose, expectShape, type InputSpec } from './helpers/check.js';
import { crossEntropyRef, embeddingRef, layerNormRef, map2, matmulRef, nd, shapeSize, softmaxRef, type Nd } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';
import { lowbias32Reference } from './helpers/lowbias32.js';

const FINFO_MIN = -3.4028234663852886e38;

/**
 * Embedding whose padding rows are frozen at their original values in the reference, so finite
 * differences give them zero gradient exactly as padding_idx should.
 */
function embeddingCase(vocab: number, hidden: number, idsShape: number[], paddingIdx: number | null, seed: number): void {
  const rng = new TestRng(seed);
  const weight = rng.uniform(vocab * hidden);
  const ids = rng.ints(shapeSize(idsShape), vocab);
  if (paddingIdx !== null && ids.length > 0) ids[0] = paddingIdx;
  const frozen = (w: Nd): Nd => ({
    shape: w.shape,
    data: w.data.map((v, i) => (Math.floor(i / hidden) === paddingIdx ? weight[i] : v)),
  });
  checkOp({
    label: `embedding [${vocab},${hidden}] ids [${idsShape}] paddingIdx ${paddingIdx}`,
    inputs: [
      { shape: [vocab, hidden], data: weight },
      { shape: idsShape, data: ids, dtype: 'int32' },
    ],
    run: ([w, i]) => T.embedding(w, i, paddingIdx === null && rng.next() < 0.5 ? {} : { paddingIdx }),
    ref: ([w, i]) => embeddingRef(frozen(w), i),
    forward: { rtol: 0, atol: 0 },
    seed,
  });
}

type TiedMode = 'dense, then rows' | 'a summed dense, then rows' | 'rows, then rows' | "rows onto the caller's seed";

/**
 * One weight W [V, H] used as an embedding table and as a matmul operand (tied, as the MLM head
 * ties the word embeddings). The sweep adds the embedding's row gradient to what W has so far in
 * three ways (ops/backward.ts): in place into a gradient only the sweep sees, into a copy of one
 * it does not own (the caller's seed), or as the first gradient (a dense scatter). Each mode
 * reaches one of them; finite differences check the sum and the kernel profiler the way taken.
 */
function tiedCase(mode: TiedMode, paddingIdx: number | null, seed: number): void {
  const rng = new TestRng(seed);
  const [V, H, N] = [5, 3, 4];
  const weight = rng.uniform(V * H);
  const ids = rng.ints(N, V);
  const ids2 = rng.ints(mode === "rows onto the caller's seed" ? V : N, V);
  if (paddingIdx !== null) [ids[0], ids2[1]] = [paddingIdx, paddingIdx];
  const frozen = (w: Nd): Nd => ({ shape: w.shape, data: w.data.map((v, i) => (Math.floor(i / H) === paddingIdx ? weight[i] : v)) });
  const options = paddingIdx === null ? {} : { paddingIdx };
  const calls = new Map<string, number>();
  T.setKernelProfiler((name) => calls.set(name, (calls.get(name) ?? 0) + 1));
  try {
    checkOp({
      label: `tied weight, ${mode}, paddingIdx ${paddingIdx}`,
      inputs: [
        { shape: [V, H], data: weight },
        { shape: [N], data: ids, dtype: 'int32' },
        { shape: [ids2.length], data: ids2, dtype: 'int32' },
      ],
      run: ([w, i, i2]) => {
        if (mode === 'dense, then rows') return T.matmul(T.embedding(w, i, options), w, { transB: true });
        if (mode === 'a summed dense, then rows') return T.matmul(T.matmul(T.embedding(w, i, options), w, { transB: true }), w);
        // [V, H] + [V, H]: add hands the caller's seed itself to w
        if (mode === "rows onto the caller's seed") return T.add(w, T.embedding(w, i2, options));
        return T.add(T.embedding(w, i, options), T.embedding(w, i2, options));
      },
      ref: ([w, i, i2]) => {
        if (mode === 'dense, then rows') return matmulRef(embeddingRef(frozen(w), i), w, false, true);
        if (mode === 'a summed dense, then rows') return matmulRef(matmulRef(embeddingRef(frozen(w), i), w, false, true), w);
        if (mode === "rows onto the caller's seed") return map2(w, embeddingRef(frozen(w), i2), (p, q) => p + q);
        return map2(embeddingRef(frozen(w), i), embeddingRef(frozen(w), i2), (p, q) => p + q);
      },
      seed,
    });
  } finally {
    T.setKernelProfiler(null);
  }
  expect(calls.get('ScatterAddInPlace') ?? 0, mode).toBeGreaterThan(0);
  // A dense [V, H] scatter only where the rows come first, a copy only of the caller's seed.
  expect((calls.get('ScatterAdd') ?? 0) > 0, mode).toBe(mode === 'rows, then rows');
  expect((calls.get('Slice') ?? 0) > 0, mode).toBe(mode === "rows onto the caller's seed");
}

await describeBackends('nn ops', (backend) => {
  describe('embedding', () => {
    it('gathers rows for ids of rank 0-2; backward scatter-adds repeated ids; paddingIdx rows get none', () => {
      fc.assert(
        fc.property(oddDim, oddDim, shapeArb(0, 2, 40), seedArb, fc.boolean(), (vocab, hidden, idsShape, seed, pad) => {
          embeddingCase(vocab, hidden, idsShape, pad ? Math.floor(new TestRng(seed).next() * vocab) : null, seed);
        }),
        { numRuns: 40 },
      );
    });

    it('a [1000, 3] table and a [17, 5] batch of ids with padding', () => {
      embeddingCase(1000, 3, [17, 5], 0, 1);
      embeddingCase(3, 1000, [2, 17], 2, 2);
    });

    it('padding rows still look up their values; repeated ids sum their gradients', () => {
      const weight = T.tensor(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        undefined,
        { requiresGrad: true },
      );
      const ids = T.tensor(new Int32Array([2, 0, 2, 1]), [2, 2]);
      const out = T.embedding(weight, ids, { paddingIdx: 1 });
      expect(out.toArray()).toEqual([
        [
          [5, 6],
          [1, 2],
        ],
        [
          [5, 6],
          [3, 4],
        ],
      ]);
      out.backward(T.tensor([1, 10, 100, 1000, 10000, 100000, 1e6, 1e7], [2, 2, 2]));
      expect(weight.grad!.toArray()).toEqual([
        [100, 1000],
        [0, 0],
        [10001, 100010],
      ]);
    });

    it('a tied weight sums its dense and row gradients in every order', () => {
      const modes: TiedMode[] = ['dense, then rows', 'a summed dense, then rows', 'rows, then rows', "rows onto the caller's seed"];
      fc.assert(
        fc.property(fc.constantFrom(...modes), fc.option(fc.integer({ min: 0, max: 4 })), seedArb, (mode, paddingIdx, seed) => tiedCase(mode, paddingIdx, seed)),
        { numRuns: 12 },
      );
      for (const mode of modes) tiedCase(mode, 2, 7);
    });

    it('ScatterAddInPlace names the shapes it was given, and ids out of range', () => {
      const acc = T.zeros([4, 2]);
      expect(() => T.runKernel('ScatterAddInPlace', [acc.info, T.zeros([3, 3]).info, T.tensor(new Int32Array([0, 1, 2])).info], {})).toThrow(/ScatterAddInPlace.*\[4,\s?2\].*\[3,\s?3\]/);
      if (backend === 'cpu') {
        expect(() => T.runKernel('ScatterAddInPlace', [acc.info, T.zeros([2, 2]).info, T.tensor(new Int32Array([0, 4])).info], {})).toThrow(
          new Error('ScatterAddInPlace: id 4 at position 1 is outside the 4 rows of the gradient (dy [2,2])'),
        );
      }
    });

    it('bad ids and weights throw', () => {
      const weight = T.zeros([4, 2]);
      // Range checks live in each backend's Gather kernel: every backend names the kernel and the id.
      expect(() => T.embedding(weight, T.tensor(new Int32Array([1, 4])))).toThrow(/Gather\b.*\b4\b/);
      expect(() => T.embedding(weight, T.tensor(new Int32Array([-1])))).toThrow(/Gather\b.*-1\b/);
      if (backend === 'cpu') {
        expect(() => T.embedding(weight, T.tensor(new Int32Array([1, 4])))).toThrow(
          new Error('Gather: id 4 at position 1 is outside the table of 4 rows (weight [4,2])'),
        );
      }
      expect(() => T.embedding(weight, T.tensor([1, 2]))).toThrow(new Error('embedding: ids must be int32, got float32 [2]'));
      expect(() => T.embedding(T.zeros([4]), T.tensor(new Int32Array([1])))).toThrow(new Error('embedding: weight must be [V, H], got [4]'));
    });
  });

  describe('layerNorm', () => {
    it('normalises the last axis (biased variance, eps) with gradients for x, gamma and beta', () => {
      fc.assert(
        fc.property(shapeArb(0, 2, 60), oddDim, seedArb, fc.constantFrom(1e-5, 1e-12, undefined, 0.1), (rows, hidden, seed, eps) => {
          const rng = new TestRng(seed);
          const shape = [...rows, hidden];
          const x = rng.uniform(shapeSize(shape), -2, 2);
          // dx = rstd (dxhat - mean dxhat - xhat mean(dxhat xhat)) cancels terms of size rstd |dy g|, and
          // xhat is rebuilt from the float32 mean, whose rounding (~6e-8 |x|) is amplified by rstd again:
          // float32 error ~ rstd + rstd^2 ulp(x). Only short rows whose entries nearly agree get a large rstd.
          // H = 1 rows have xhat = 0 and dx = 0 exactly, but rstd = 1/sqrt(eps) multiplies whatever
          // rounding a float32 kernel leaves in dxhat - mean(dxhat).
          let maxRstd = 0;
          for (let r = 0; hidden > 1 && r < x.length; r += hidden) {
            const row = x.subarray(r, r + hidden);
            const mean = row.reduce((s, v) => s + v, 0) / hidden;
            const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / hidden;
            maxRstd = Math.max(maxRstd, 1 / Math.sqrt(variance + (eps ?? 1e-12)));
          }
          checkOp({
            label: `layerNorm [${shape}] eps ${eps}`,
            inputs: [
              { shape, data: x },
              { shape: [hidden], data: rng.uniform(hidden, 0.5, 1.5) },
              { shape: [hidden], data: rng.uniform(hidden, -0.5, 0.5) },
            ],
            run: ([x, g, b]) => (eps === undefined ? T.layerNorm(x, g, b) : T.layerNorm(x, g, b, eps)),
            ref: ([x, g, b]) => layerNormRef(x, g, b, eps ?? 1e-12),
            // A float32 mean is off by ~ulp(x)/2, which x - mean turns into a relative error of
            // rstd ulp(x) in xhat: near-degenerate short rows cannot do better in float32.
            forward: { rtol: 1e-5, atol: 1e-5 + 3e-7 * maxRstd },
            gradAbs: hidden === 1 ? 1e-7 / Math.sqrt(eps ?? 1e-12) + 1e-6 : 2e-6 * maxRstd + 2e-7 * maxRstd ** 2 + 1e-6,
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('a [2, 1000] row and a [1000, 3] batch', () => {
      const rng = new TestRng(4);
      for (const shape of [
        [2, 1000],
        [1000, 3],
      ]) {
        const hidden = shape[1];
        checkOp({
          label: `layerNorm [${shape}]`,
          inputs: [
            { shape, data: rng.uniform(shapeSize(shape), -2, 2) },
            { shape: [hidden], data: rng.uniform(hidden, 0.5, 1.5) },
            { shape: [hidden], data: rng.uniform(hidden, -0.5, 0.5) },
          ],
          run: ([x, g, b]) => T.layerNorm(x, g, b, 1e-5),
          ref: ([x, g, b]) => layerNormRef(x, g, b, 1e-5),
          forward: { rtol: 1e-5, atol: 1e-5 },
        });
      }
    });

    it('rows with a large common offset keep their precision (no one-pass E[x^2] - E[x]^2)', () => {
      const rng = new TestRng(8);
      const data = rng.uniform(4 * 17, -1, 1).map((v) => Math.fround(300 + v));
      checkOp({
        label: 'layerNorm offset 300',
        inputs: [
          { shape: [4, 17], data },
          { shape: [17], data: new Float64Array(17).fill(1) },
          { shape: [17], data: new Float64Array(17) },
        ],
        run: ([x, g, b]) => T.layerNorm(x, g, b, 1e-12),
        ref: ([x, g, b]) => layerNormRef(x, g, b, 1e-12),
        forward: { rtol: 1e-4, atol: 1e-4 },
        fd: 'none',
      });
    });

    it('a constant row comes out as beta with finite gradients (eps keeps rstd finite)', () => {
      const x = T.full([2, 5], 3, { requiresGrad: true });
      const gamma = T.ones([5], { requiresGrad: true });
      const beta = T.tensor([0.1, 0.2, 0.3, 0.4, 0.5], undefined, { requiresGrad: true });
      const y = T.layerNorm(x, gamma, beta);
      expectClose(y.toFloat32Array(), [0.1, 0.2, 0.3, 0.4, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5].map(Math.fround), { rtol: 0, atol: 1e-7 });
      y.backward(T.randn([2, 5], { seed: 3 }));
      for (const g of [x.grad!, gamma.grad!, beta.grad!]) expect(g.toFloat32Array().every(Number.isFinite)).toBe(true);
    });

    it('gamma/beta of the wrong size throw', () => {
      expect(() => T.layerNorm(T.zeros([2, 3]), T.ones([4]), T.zeros([3]))).toThrow(
        new Error('layerNorm: x [2,3] needs gamma and beta of [3], got [4] and [3]'),
      );
    });
  });

  describe('softmax', () => {
    it('over the last axis of random shapes, without and with a broadcast additive mask', () => {
      fc.assert(
        fc.property(shapeArb(1, 4), seedArb, fc.integer({ min: 0, max: 3 }), (shape, seed, maskKind) => {
          const rng = new TestRng(seed);
          const rank = shape.length;
          // maskKind 0: none; 1: [B,1,1,L]-style (all but first and last axes 1); 2: full; 3: last axis only.
          const maskShape =
            maskKind === 1 ? shape.map((d, i) => (i === 0 || i === rank - 1 ? d : 1)) : maskKind === 2 ? shape : [shape[rank - 1]];
          const columns = maskShape[maskShape.length - 1];
          // finfo.min entries, but never a whole row (a fully masked row has its own test).
          const maskData = Array.from({ length: shapeSize(maskShape) }, (_, i) =>
            i % columns !== 0 && rng.next() < 0.3 ? FINFO_MIN : Math.fround(-3 * rng.next()),
          );
          const inputs: InputSpec[] = [{ shape, data: rng.uniform(shapeSize(shape), -4, 4) }];
          if (maskKind > 0) inputs.push({ shape: maskShape, data: maskData, grad: false });
          checkOp({
            label: `softmax [${shape}] mask ${maskKind > 0 ? `[${maskShape}]` : 'none'}`,
            inputs,
            run: ([x, m]) => (m ? T.softmax(x, m) : x.softmax()),
            ref: ([x, m]) => softmaxRef(x, m),
            forward: { rtol: 1e-5, atol: 1e-7 },
            seed,
          });
        }),
        { numRuns: 50 },
      );
    });

    it('a fully masked row (every entry finfo.min) comes out uniform, never NaN, with finite gradients', () => {
      const x = T.tensor(
        [
          [1, 2, 3, 4],
          [5, -6, 7, 8],
          [0, 0, 0, 0],
        ],
        undefined,
        { requiresGrad: true },
      );
      const mask = T.tensor([[0, 0, 0, 0], [FINFO_MIN, FINFO_MIN, FINFO_MIN, FINFO_MIN], [0, FINFO_MIN, FINFO_MIN, 0]]);
      const y = T.softmax(x, mask);
      const values = y.toFloat32Array();
      expectClose(values.subarray(4, 8), [0.25, 0.25, 0.25, 0.25], { rtol: 0, atol: 1e-7 });
      expectClose(values.subarray(8, 12), [0.5, 0, 0, 0.5], { rtol: 0, atol: 1e-7 });
      expectClose(values, softmaxRef(nd([3, 4], x.toFloat32Array()), nd([3, 4], mask.toFloat32Array())).data, { rtol: 1e-6, atol: 1e-7 });
      y.backward(T.randn([3, 4], { seed: 2 }));
      expect(x.grad!.toFloat32Array().every(Number.isFinite)).toBe(true);
      // A [B,1,1,L] padding mask over attention scores, one batch item fully padded.
      const scores = T.randn([2, 3, 4, 5], { seed: 4 });
      const pad = T.tensor([0, 0, 0, FINFO_MIN, FINFO_MIN, FINFO_MIN, FINFO_MIN, FINFO_MIN, FINFO_MIN, FINFO_MIN], [2, 1, 1, 5]);
      const probs = T.softmax(scores, pad).toFloat32Array();
      expect(probs.every(Number.isFinite)).toBe(true);
      expectClose(probs.subarray(60), new Float64Array(60).fill(0.2), { rtol: 0, atol: 1e-7 });
    });

    it('large logits are stable (max subtracted), and a 1000-wide row with a mask', () => {
      const big = T.tensor([[1e4, 1e4 - 1, -1e4]]).softmax().toFloat32Array();
      expectClose(big, softmaxRef(nd([1, 3], [1e4, 1e4 - 1, -1e4])).data, { rtol: 1e-6, atol: 1e-7 });
      const rng = new TestRng(5);
      const maskData = Float64Array.from({ length: 1000 }, (_, i) => (i % 7 === 3 ? FINFO_MIN : 0));
      checkOp({
        label: 'softmax [3, 1000] mask [1000]',
        inputs: [
          { shape: [3, 1000], data: rng.uniform(3000, -5, 5) },
          { shape: [1000], data: maskData, grad: false },
        ],
        run: ([x, m]) => T.softmax(x, m),
        ref: ([x, m]) => softmaxRef(x, m),
        forward: { rtol: 1e-5, atol: 1e-8 },
      });
    });

    it('a mask that does not broadcast to x throws (instead of reading the wrong entries)', () => {
      const x = T.zeros([2, 3]);
      expect(() => T.softmax(x, T.zeros([4, 3]))).toThrow(/^softmax: /);
      expect(() => T.softmax(x, T.zeros([2, 2]))).toThrow(/^softmax: /);
      // A mask that would widen x ([3] + [2,3]) is not "broadcast to x" either.
      expect(() => T.softmax(T.zeros([3]), T.zeros([2, 3]))).toThrow(/^softmax: /);
    });
  });

  describe('dropout', () => {
    const p = 0.1;

    const lowbias32 = lowbias32Reference;
    /** The contract's mask: 0 where lowbias32(lowbias32(i) ^ seed) < floor(p 2^32), else fround(1/(1-p)). */
    const referenceMask = (n: number, rate: number, seed: number): number[] => {
      const threshold = BigInt(Math.floor(rate * 2 ** 32));
      const kept = Math.fround(1 / (1 - rate));
      return Array.from({ length: n }, (_, i) => (lowbias32(lowbias32(BigInt(i)) ^ BigInt(seed)) < threshold ? 0 : kept));
    };

    it('the mask is the documented hash of (seed, index), with the seed drawn from the generator', () => {
      // 20050 elements: more than one 16K chunk of the cpu SIMD kernel, and not a multiple of 4
      const n = 20050;
      const x = T.rand([50, 401], { seed: 4, low: -2, high: 2 });
      const xs = x.toFloat32Array();
      for (const rate of [0.1, 0.37]) {
        const seed = new T.Generator(17).nextUint32();
        const y = T.dropout(x, rate, { generator: new T.Generator(17) }).toFloat32Array();
        const mask = referenceMask(n, rate, seed);
        // Bit-exact on every backend: float32 x times a float32 mask value is one rounding.
        const expected = Array.from(xs, (v, i) => Math.fround(v * mask[i]));
        expect(Array.from(y)).toEqual(expected);
      }
    });

    it('same seed, same mask; the generator advances between calls; a different seed differs', () => {
      const x = T.ones([64, 64]);
      const a = T.dropout(x, p, { generator: new T.Generator(42) }).toFloat32Array();
      const b = T.dropout(x, p, { generator: new T.Generator(42) }).toFloat32Array();
      expect(Array.from(a)).toEqual(Array.from(b));
      const gen = new T.Generator(42);
      T.dropout(x, p, { generator: gen });
      const second = T.dropout(x, p, { generator: gen }).toFloat32Array();
      expect(Array.from(second)).not.toEqual(Array.from(a));
      const other = T.dropout(x, p, { generator: new T.Generator(43) }).toFloat32Array();
      expect(Array.from(other)).not.toEqual(Array.from(a));
      // One draw per call, so a saved generator state replays the next mask.
      const saved = new T.Generator(42);
      saved.nextUint32();
      const replay = T.dropout(x, p, { generator: saved }).toFloat32Array();
      expect(Array.from(replay)).toEqual(Array.from(second));
    });

    it('drops a fraction p (within 5 sigma) and scales the kept entries by exactly fround(1/(1-p))', () => {
      for (const rate of [0.1, 0.5]) {
        const n = 200_000;
        const x = T.rand([n], { seed: 7, low: 0.5, high: 1.5 });
        const xs = x.toFloat32Array();
        const y = T.dropout(x, rate, { generator: new T.Generator(1) }).toFloat32Array();
        let dropped = 0;
        const scale = Math.fround(1 / (1 - rate));
        for (let i = 0; i < n; i++) {
          if (y[i] === 0) dropped++;
          else if (y[i] !== Math.fround(xs[i] * scale)) throw new Error(`kept entry ${i}: ${y[i]} != ${xs[i]} * fround(1 / (1 - ${rate}))`);
        }
        const sigma = Math.sqrt((rate * (1 - rate)) / n);
        expect(Math.abs(dropped / n - rate)).toBeLessThan(5 * sigma);
      }
    });

    it('masks of neighbouring seeds are uncorrelated (no shifted copies)', () => {
      const n = 100_000;
      const x = T.ones([n]);
      const a = T.dropout(x, 0.5, { generator: new T.Generator(1) }).toFloat32Array();
      const b = T.dropout(x, 0.5, { generator: new T.Generator(2) }).toFloat32Array();
      for (const shift of [0, 1, 2]) {
        let both = 0;
        for (let i = 0; i + shift < n; i++) if (a[i] === 0 && b[i + shift] === 0) both++;
        // Independent masks drop a given pair together with probability 1/4.
        expect(Math.abs(both / (n - shift) - 0.25)).toBeLessThan(5 * Math.sqrt(0.1875 / n));
      }
    });

    it('the gradient is the same mask and scale', () => {
      const x = T.rand([50, 40], { seed: 3, low: 0.5, high: 1.5, requiresGrad: true });
      const y = T.dropout(x, 0.3, { generator: new T.Generator(9) });
      const w = T.randn([50, 40], { seed: 10 });
      y.backward(w);
      const out = y.toFloat32Array();
      const grad = x.grad!.toFloat32Array();
      const ws = w.toFloat32Array();
      const scale = Math.fround(1 / 0.7);
      const expected = Array.from(out, (v, i) => (v === 0 ? 0 : Math.fround(ws[i] * scale)));
      expect(Array.from(grad, (v) => (v === 0 ? 0 : v))).toEqual(expected);
      expect(out.filter((v) => v === 0).length).toBeGreaterThan(0);
    });

    it('eval mode (training: false) and p = 0 are the identity', () => {
      const x = T.randn([3, 17], { seed: 1, requiresGrad: true });
      for (const y of [T.dropout(x, 0.5, { generator: new T.Generator(1), training: false }), T.dropout(x, 0, { generator: new T.Generator(1) })]) {
        expect(Array.from(y.toFloat32Array())).toEqual(Array.from(x.toFloat32Array()));
        x.zeroGrad();
        y.sum().backward();
        expect(Array.from(x.grad!.toFloat32Array())).toEqual(new Array(51).fill(1));
      }
    });

    it('p outside [0, 1) throws', () => {
      const x = T.ones([2]);
      expect(() => T.dropout(x, 1, { generator: new T.Generator(1) })).toThrow(new Error('dropout: p must be in [0, 1), got 1'));
      expect(() => T.dropout(x, -0.1, { generator: new T.Generator(1) })).toThrow(new Error('dropout: p must be in [0, 1), got -0.1'));
    });
  });

  describe('crossEntropy', () => {
    it('mean over labelled rows of random [N, C] and [B, L, C] logits, ignoreIndex default and custom', () => {
      fc.assert(
        fc.property(shapeArb(1, 2, 40), oddDim, seedArb, fc.boolean(), (rows, classes, seed, customIgnore) => {
          const rng = new TestRng(seed);
          const ignoreIndex = customIgnore ? -1 : -100;
          const labels = Array.from(rng.ints(shapeSize(rows), classes), (v) => (rng.next() < 0.25 ? ignoreIndex : v));
          checkOp({
            label: `crossEntropy [${rows},${classes}] ignoreIndex ${ignoreIndex}`,
            inputs: [
              { shape: [...rows, classes], data: rng.uniform(shapeSize(rows) * classes, -4, 4) },
              { shape: rows, data: labels, dtype: 'int32' },
            ],
            run: ([logits, y]) => T.crossEntropy(logits, y, customIgnore ? { ignoreIndex } : {}),
            ref: ([logits, y]) => crossEntropyRef(logits, y.data, ignoreIndex),
            forward: { rtol: 1e-5, atol: 1e-6 },
            seed,
          });
        }),
        { numRuns: 50 },
      );
    });

    it('all rows ignored: loss 0 and a zero (not NaN) gradient', () => {
      const logits = T.randn([3, 5], { seed: 1, requiresGrad: true });
      const loss = T.crossEntropy(logits, T.tensor(new Int32Array([-100, -100, -100])));
      expect(loss.item()).toBe(0);
      expectShape(loss, []);
      loss.backward();
      expect(Array.from(logits.grad!.toFloat32Array())).toEqual(new Array(15).fill(0));
    });

    it('a 1000-class row, 1000 rows, and extreme logits', () => {
      const rng = new TestRng(6);
      for (const [n, c] of [
        [3, 1000],
        [1000, 3],
      ]) {
        const labels = Array.from(rng.ints(n, c), (v, i) => (i % 5 === 4 ? -100 : v));
        checkOp({
          label: `crossEntropy [${n},${c}]`,
          inputs: [
            { shape: [n, c], data: rng.uniform(n * c, -5, 5) },
            { shape: [n], data: labels, dtype: 'int32' },
          ],
          run: ([logits, y]) => T.crossEntropy(logits, y),
          ref: ([logits, y]) => crossEntropyRef(logits, y.data),
          forward: { rtol: 1e-5, atol: 1e-6 },
        });
      }
      const extreme = T.crossEntropy(T.tensor([[1e4, 0, -1e4]]), T.tensor(new Int32Array([1])));
      expectClose([extreme.item()], [1e4], { rtol: 1e-6, atol: 0 });
    });

    it('bad labels throw', () => {
      const logits = T.zeros([2, 3]);
      // Label range checks live in each backend's CrossEntropy kernel.
      expect(() => T.crossEntropy(logits, T.tensor(new Int32Array([0, 3])))).toThrow(/CrossEntropy\b.*\b3\b/);
      expect(() => T.crossEntropy(logits, T.tensor(new Int32Array([-1, 0])))).toThrow(/CrossEntropy\b.*-1\b/);
      if (backend === 'cpu') {
        expect(() => T.crossEntropy(logits, T.tensor(new Int32Array([0, 3])))).toThrow(/^CrossEntropy: label 3 at row 1 is outside \[0, 3\)/);
      }
      expect(() => T.crossEntropy(logits, T.tensor([0, 1]))).toThrow(new Error('crossEntropy: labels must be int32, got float32'));
      expect(() => T.crossEntropy(logits, T.tensor(new Int32Array([0, 1, 2])))).toThrow(
        new Error('crossEntropy: logits [2,3] have 2 rows but labels [3] have 3'),
      );
    });
  });
});
