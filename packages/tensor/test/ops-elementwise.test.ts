/**
 * Elementwise ops against float64 references: broadcasting (every rank / size-1 combination and
 * random shapes), unary math, scale/affine, where/maskedFill; gradients by finite differences.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '../src/index.js';
import { allBroadcastOperands, broadcastPairArb, seedArb, shapeArb } from './helpers/arb.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp, expectClose } from './helpers/check.js';
import { erf64, erfc64, gelu64 } from './helpers/erf.js';
import { broadcastShapeRef, gelu, map1, map2, shapeSize, where3 } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';

const binaryOps = {
  add: { run: T.add, ref: (p: number, q: number) => p + q },
  sub: { run: T.sub, ref: (p: number, q: number) => p - q },
  mul: { run: T.mul, ref: (p: number, q: number) => p * q },
  div: { run: T.div, ref: (p: number, q: number) => p / q },
} as const;
type BinaryName = keyof typeof binaryOps;

/** Data for a binary op: divisors kept away from zero so float32 rounding cannot blow up. */
function binaryCase(name: BinaryName, aShape: number[], bShape: number[], seed: number) {
  const rng = new TestRng(seed);
  const op = binaryOps[name];
  return checkOp({
    label: `${name} [${aShape}] [${bShape}]`,
    inputs: [
      { shape: aShape, data: rng.uniform(shapeSize(aShape), -2, 2) },
      { shape: bShape, data: name === 'div' ? rng.awayFromZero(shapeSize(bShape), 0.5, 2) : rng.uniform(shapeSize(bShape), -2, 2) },
    ],
    run: ([a, b]) => op.run(a, b),
    ref: ([a, b]) => map2(a, b, op.ref),
    seed,
  });
}

describe('test helpers (float64 references)', () => {
  it('erf64/erfc64/gelu64 match published values', () => {
    const table: Array<[number, number]> = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3.5, 0.9999992569016276],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(erf64(x) - v)).toBeLessThan(1e-15);
      expect(Math.abs(erf64(-x) + v)).toBeLessThan(1e-15);
    }
    expect(Math.abs(erfc64(3) / 2.209049699858544e-5 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(erfc64(5) / 1.5374597944280349e-12 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(gelu64(1) - 0.8413447460685429)).toBeLessThan(1e-15);
    expect(Math.abs(gelu64(-1) + 0.15865525393145707)).toBeLessThan(1e-15);
    expect(Math.abs(gelu64(-8) / -4.976768459417428e-15 - 1)).toBeLessThan(1e-12);
  });

  it('broadcastShapeRef follows numpy', () => {
    expect(broadcastShapeRef([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapeRef([], [5])).toEqual([5]);
    expect(broadcastShapeRef([0, 1], [1, 3])).toEqual([0, 3]);
    expect(broadcastShapeRef([2, 3], [4, 3])).toBeNull();
  });
});

await describeBackends('elementwise', () => {
  describe('broadcasting: every rank / size-1 combination against [2,3,4]', () => {
    const operands = allBroadcastOperands([2, 3, 4]);
    for (const name of Object.keys(binaryOps) as BinaryName[]) {
      it(`${name}: ${operands.length}x${operands.length} shape pairs, forward and both gradients`, () => {
        let seed = 1;
        for (const a of operands) for (const b of operands) binaryCase(name, a, b, seed++);
      });
    }
  });

  describe('broadcasting: random shapes with odd sizes', () => {
    for (const name of Object.keys(binaryOps) as BinaryName[]) {
      it(`${name}`, () => {
        fc.assert(
          fc.property(broadcastPairArb, seedArb, fc.boolean(), ({ a, b }, seed, swap) => {
            binaryCase(name, swap ? b : a, swap ? a : b, seed);
          }),
          { numRuns: 40 },
        );
      });
    }
  });

  it('a bias row over 1000 rows and a column over 17 columns (larger shapes)', () => {
    binaryCase('add', [1000, 17], [17], 3);
    binaryCase('mul', [1000, 1], [1, 17], 4);
    binaryCase('sub', [17], [1000, 17], 5);
    binaryCase('div', [3, 1000], [3, 1], 6);
  });

  it('number operands broadcast as scalars on either side', () => {
    const rng = new TestRng(7);
    const shape = [3, 5];
    const data = rng.awayFromZero(15, 0.5, 2);
    const cases: Array<[string, (x: T.Tensor) => T.Tensor, (v: number) => number]> = [
      ['x + 2', (x) => T.add(x, 2), (v) => v + 2],
      ['2 + x', (x) => T.add(2, x), (v) => 2 + v],
      ['3 - x', (x) => T.sub(3, x), (v) => 3 - v],
      ['x - 3', (x) => x.sub(3), (v) => v - 3],
      ['x * -0.5', (x) => x.mul(-0.5), (v) => v * -0.5],
      ['1 / x', (x) => T.div(1, x), (v) => 1 / v],
      ['x / 4', (x) => x.div(4), (v) => v / 4],
    ];
    for (const [label, run, ref] of cases) {
      checkOp({ label, inputs: [{ shape, data }], run: ([x]) => run(x), ref: ([x]) => map1(x, ref) });
    }
  });

  it('broadcasting of incompatible shapes throws, naming the op and both shapes', () => {
    const a = T.zeros([2, 3]);
    const b = T.zeros([4, 3]);
    expect(() => T.add(a, b)).toThrow('add: shapes [2,3] and [4,3] do not broadcast (dim 0 of the result: 2 vs 4)');
    expect(() => T.sub(a, b)).toThrow(/^sub: shapes \[2,3\] and \[4,3\] do not broadcast/);
    expect(() => T.mul(T.zeros([3]), T.zeros([2, 4]))).toThrow(/^mul: shapes \[3\] and \[2,4\] do not broadcast/);
    expect(() => T.div(a, T.zeros([3, 1, 2]))).toThrow(/^div: shapes \[2,3\] and \[3,1,2\] do not broadcast/);
  });

  describe('unary ops', () => {
    const unaryCases: Array<{
      name: string;
      run: (x: T.Tensor) => T.Tensor;
      ref: (v: number) => number;
      data: (rng: TestRng, n: number) => Float64Array;
    }> = [
      { name: 'neg', run: T.neg, ref: (v) => -v, data: (r, n) => r.uniform(n, -3, 3) },
      { name: 'exp', run: T.exp, ref: Math.exp, data: (r, n) => r.uniform(n, -4, 4) },
      { name: 'log', run: T.log, ref: Math.log, data: (r, n) => r.uniform(n, 0.05, 5) },
      { name: 'sqrt', run: T.sqrt, ref: Math.sqrt, data: (r, n) => r.uniform(n, 0.05, 5) },
      { name: 'tanh', run: T.tanh, ref: Math.tanh, data: (r, n) => r.uniform(n, -4, 4) },
      { name: 'gelu', run: T.gelu, ref: gelu64, data: (r, n) => r.uniform(n, -6, 6) },
      // Away from the kink: finite differences across 0 are meaningless.
      { name: 'relu', run: T.relu, ref: (v) => Math.max(v, 0), data: (r, n) => r.awayFromZero(n, 1e-3, 3) },
    ];
    for (const c of unaryCases) {
      it(`${c.name} on random shapes (method form too)`, () => {
        fc.assert(
          fc.property(shapeArb(0, 4), seedArb, (shape, seed) => {
            const rng = new TestRng(seed);
            checkOp({
              label: `${c.name} [${shape}]`,
              inputs: [{ shape, data: c.data(rng, shapeSize(shape)) }],
              run: ([x]) => c.run(x),
              ref: ([x]) => map1(x, c.ref),
              seed,
            });
          }),
          { numRuns: 25 },
        );
      });
    }

    it('method forms equal the functions', () => {
      const x = T.tensor([0.3, -1.2, 2.5]);
      const pairs: Array<[T.Tensor, T.Tensor]> = [
        [x.neg(), T.neg(x)],
        [x.exp(), T.exp(x)],
        [x.tanh(), T.tanh(x)],
        [x.gelu(), T.gelu(x)],
        [x.relu(), T.relu(x)],
        [x.scale(3), T.scale(x, 3)],
      ];
      for (const [m, f] of pairs) expect(m.toArray()).toEqual(f.toArray());
    });

    it('gelu is the exact erf form over a wide range, incl. the tails (not the tanh approximation)', () => {
      const values = new Float64Array(1000);
      for (let i = 0; i < values.length; i++) values[i] = Math.fround(-10 + (20 * i) / (values.length - 1));
      checkOp({
        label: 'gelu [-10, 10]',
        inputs: [{ shape: [1000], data: values }],
        run: ([x]) => x.gelu(),
        ref: (xs) => gelu(xs[0]),
        forward: { rtol: 2e-6, atol: 1e-7 },
      });
      // tanh-approx GELU differs from the erf form by ~1e-4 around |x| = 2; float32 erf must not.
      const out = T.tensor([2, -2, 0.7]).gelu().toFloat32Array();
      expectClose(out, [gelu64(2), gelu64(-2), gelu64(Math.fround(0.7))], { rtol: 1e-6, atol: 1e-7 });
    });

    it('relu passes gradient where x > 0 only (0 at x = 0, as PyTorch)', () => {
      const x = T.tensor([-1, 0, 2], undefined, { requiresGrad: true });
      x.relu().sum().backward();
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([0, 0, 1]);
    });

    it('exp/log/sqrt edge values: log(0) = -inf, sqrt(0) = 0, exp(-inf) = 0, log(-1) = NaN', () => {
      expect(Array.from(T.tensor([0, 1]).log().toFloat32Array())).toEqual([-Infinity, 0]);
      expect(Array.from(T.tensor([0, 4]).sqrt().toFloat32Array())).toEqual([0, 2]);
      expect(Array.from(T.tensor([-Infinity, 0]).exp().toFloat32Array())).toEqual([0, 1]);
      expect(Number.isNaN(T.tensor([-1]).log().item())).toBe(true);
    });

    it('unary ops reject int32 inputs by name', () => {
      const ids = T.tensor(new Int32Array([1, 2]));
      expect(() => T.exp(ids)).toThrow(/^exp: expected float32 inputs, got int32 \[2\]/);
      expect(() => T.add(ids, 1)).toThrow(/^add: expected float32/);
    });
  });

  describe('scale / affine', () => {
    it('affine(x, f, b) = x f + b and scale(x, f) = x f, with gradient f', () => {
      fc.assert(
        fc.property(shapeArb(0, 3), seedArb, fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (shape, seed, f, b) => {
          const factor = Math.fround(f);
          const bias = Math.fround(b);
          const rng = new TestRng(seed);
          const data = rng.uniform(shapeSize(shape), -2, 2);
          checkOp({
            label: `affine [${shape}] ${factor} ${bias}`,
            inputs: [{ shape, data }],
            run: ([x]) => T.affine(x, factor, bias),
            ref: ([x]) => map1(x, (v) => v * factor + bias),
            forward: { rtol: 1e-6, atol: 1e-6 },
          });
          checkOp({
            label: `scale [${shape}] ${factor}`,
            inputs: [{ shape, data }],
            run: ([x]) => T.scale(x, factor),
            ref: ([x]) => map1(x, (v) => v * factor),
            forward: { rtol: 1e-6, atol: 1e-7 },
          });
        }),
        { numRuns: 30 },
      );
    });
  });

  describe('where / maskedFill', () => {
    it('where(cond, a, b) broadcasts all three; gradients go to the chosen side only', () => {
      fc.assert(
        fc.property(broadcastPairArb, seedArb, fc.boolean(), ({ a, b }, seed, intCond) => {
          const rng = new TestRng(seed);
          const full = broadcastShapeRef(a, b)!;
          const condShape = full.map((d) => (rng.next() < 0.3 ? 1 : d)).slice(Math.floor(rng.next() * (full.length + 1)));
          const cond = Array.from(rng.ints(shapeSize(condShape), 2), (v, i) => (intCond ? v : v * (i % 3 === 0 ? -0.5 : 1)));
          checkOp({
            label: `where [${condShape}] [${a}] [${b}] ${intCond ? 'int32' : 'float32'}`,
            inputs: [
              { shape: condShape, data: cond, dtype: intCond ? 'int32' : 'float32', grad: false },
              { shape: a, data: rng.uniform(shapeSize(a)) },
              { shape: b, data: rng.uniform(shapeSize(b)) },
            ],
            run: ([c, x, y]) => T.where(c, x, y),
            ref: ([c, x, y]) => where3(c, x, y),
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('where with number branches', () => {
      const cond = T.tensor(new Int32Array([1, 0, 1]));
      expect(Array.from(T.where(cond, 5, T.tensor([1, 2, 3])).toFloat32Array())).toEqual([5, 2, 5]);
      expect(Array.from(T.where(cond, T.tensor([1, 2, 3]), -1).toFloat32Array())).toEqual([1, -1, 3]);
    });

    it('maskedFill(x [B,H,L,L], mask [B,1,1,L], -3.4e38) fills masked keys; gradient skips them', () => {
      const rng = new TestRng(11);
      const shape = [2, 3, 4, 5];
      const maskData = Array.from(rng.ints(2 * 5, 2));
      const value = -3.4028234663852886e38;
      checkOp({
        label: 'maskedFill',
        inputs: [
          { shape, data: rng.uniform(shapeSize(shape)) },
          { shape: [2, 1, 1, 5], data: maskData, dtype: 'int32', grad: false },
        ],
        run: ([x, m]) => x.maskedFill(m, value),
        ref: ([x, m]) => where3(m, { shape: [], data: Float64Array.of(value) }, x),
        forward: { rtol: 1e-6, atol: 0 },
      });
    });
  });
});
