/** sum / mean over axes (with keepDims) against float64 references; gradients by finite differences. */
import { expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '../src/index.js';
import { seedArb, shapeArb } from './helpers/arb.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp, expectClose } from './helpers/check.js';
import { meanRef, shapeSize, sumRef } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';

const reductions = [
  { name: 'sum', run: T.sum, ref: sumRef },
  { name: 'mean', run: T.mean, ref: meanRef },
] as const;

/** Random axes of a rank-`rank` tensor, some written negative, maybe repeated; undefined = all. */
function randomAxes(rank: number, rng: TestRng): { asked: number | number[] | undefined; axes: number[] } {
  const pick = rng.next();
  if (pick < 0.15) return { asked: undefined, axes: [...Array(rank).keys()] };
  const axes = [...Array(rank).keys()].filter(() => rng.next() < 0.5);
  const asked = axes.map((a) => (rng.next() < 0.3 ? a - rank : a));
  if (axes.length === 1 && rng.next() < 0.5) return { asked: asked[0], axes };
  if (axes.length > 0 && rng.next() < 0.2) asked.push(asked[0]);
  return { asked: asked.reverse(), axes };
}

await describeBackends('reduce', () => {
  for (const r of reductions) {
    it(`${r.name} over random axes of random shapes, keepDims both ways`, () => {
      fc.assert(
        fc.property(shapeArb(1, 4), seedArb, fc.boolean(), (shape, seed, keepDims) => {
          const rng = new TestRng(seed);
          const { asked, axes } = randomAxes(shape.length, rng);
          checkOp({
            label: `${r.name} [${shape}] axes ${JSON.stringify(asked)} keepDims ${keepDims}`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => (keepDims || rng.next() < 0.5 ? r.run(x, asked, keepDims) : x[r.name](asked)),
            ref: ([x]) => r.ref(x, axes, keepDims),
            forward: { rtol: 1e-5, atol: 1e-5 },
            seed,
          });
        }),
        { numRuns: 50 },
      );
    });

    it(`${r.name} of a rank-0 tensor is the value itself`, () => {
      checkOp({
        label: `${r.name} of a scalar`,
        inputs: [{ shape: [], data: [2.5] }],
        run: ([x]) => r.run(x),
        ref: ([x]) => r.ref(x, [], false),
      });
      checkOp({
        label: `${r.name} of a scalar, keepDims`,
        inputs: [{ shape: [], data: [-1.25] }],
        run: ([x]) => r.run(x, [], true),
        ref: ([x]) => r.ref(x, [], true),
      });
    });

    it(`${r.name} over no axes ([]) is the identity`, () => {
      checkOp({
        label: `${r.name} axes []`,
        inputs: [{ shape: [2, 3], data: new TestRng(1).uniform(6) }],
        run: ([x]) => r.run(x, []),
        ref: ([x]) => r.ref(x, [], false),
      });
    });

    it(`${r.name} over a 1000-long axis and over rows of a [1000, 17]`, () => {
      const rng = new TestRng(21);
      for (const [shape, axes] of [
        [[3, 1000], [1]],
        [[1000, 17], [0]],
        [[1000, 17], [0, 1]],
        [[2, 1000, 3], [0, 2]],
        // leading-axes sums (bias gradients), row counts not a multiple of 8, with and without an outer kept axis
        [[1003, 17], [0]],
        [[5, 7, 3, 6], [0, 1]],
        [[4, 13, 9], [1]],
        [[3, 2, 11, 5], [1, 2]],
      ] as const) {
        checkOp({
          label: `${r.name} [${shape}] over [${axes}]`,
          inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
          run: ([x]) => r.run(x, axes, true),
          ref: ([x]) => r.ref(x, axes, true),
          forward: { rtol: 1e-5, atol: 2e-5 },
        });
      }
    });
  }

  it('long sums hold float32 accuracy (a naive float32 running sum of 1e5 x 0.1 is off by 1.4e-4)', () => {
    expect(T.ones([1024, 1024]).sum().item()).toBe(1048576);
    const tenth = Math.fround(0.1);
    expectClose(T.full([3, 100000], tenth).sum(1).toFloat32Array(), [1e5 * tenth, 1e5 * tenth, 1e5 * tenth], { rtol: 1e-5, atol: 0 });
    expectClose([T.full([100000, 3], tenth).mean().item()], [tenth], { rtol: 1e-5, atol: 0 });
    expectClose(T.full([100003, 3], tenth).sum(0).toFloat32Array(), [100003 * tenth, 100003 * tenth, 100003 * tenth], { rtol: 1e-6, atol: 0 });
  });

  it('bad axes and int32 inputs throw', () => {
    const x = T.zeros([2, 3]);
    expect(() => x.sum(2)).toThrow(new Error('sum: axis 2 is out of range for a tensor of rank 2'));
    expect(() => x.mean([-3])).toThrow(new Error('mean: axis -3 is out of range for a tensor of rank 2'));
    expect(() => T.tensor(new Int32Array([1, 2])).sum()).toThrow(new Error('sum: expected float32, got int32 [2]'));
  });
});
