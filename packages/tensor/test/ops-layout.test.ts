/**
 * Layout ops against float64 index-loop references: reshape/view, permute/transpose, concat,
 * slice/narrow, broadcastTo, cast; gradients by finite differences.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '../src/index.js';
import { seedArb, shapeArb } from './helpers/arb.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp, expectShape } from './helpers/check.js';
import { concatRef, map2, nd, permuteRef, shapeSize, sliceRef, sumRef } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';

/** A random permutation of [0, n) drawn from `rng`. */
function shuffle(n: number, rng: TestRng): number[] {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

await describeBackends('layout', () => {
  describe('reshape / view', () => {
    it('keeps row-major order, infers -1, and passes gradients back in the original shape', () => {
      fc.assert(
        fc.property(shapeArb(0, 4), seedArb, fc.boolean(), (shape, seed, useView) => {
          const rng = new TestRng(seed);
          const size = shapeSize(shape);
          // Any factorisation of size works as a target: peel random divisors.
          const target: number[] = [];
          let rest = size;
          while (rest > 1 && target.length < 3) {
            const divisors = Array.from({ length: rest }, (_, i) => i + 1).filter((d) => rest % d === 0);
            const d = divisors[Math.floor(rng.next() * divisors.length)];
            target.push(d);
            rest /= d;
          }
          target.push(rest);
          const asked = rng.next() < 0.5 ? target : target.map((d, i) => (i === 0 ? -1 : d));
          checkOp({
            label: `reshape [${shape}] -> [${asked}]`,
            inputs: [{ shape, data: rng.uniform(size) }],
            run: ([x]) => (useView ? x.view(asked) : T.reshape(x, asked)),
            ref: ([x]) => nd(target, x.data),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('shares storage with its source (README: views share storage)', () => {
      const x = T.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(x.reshape([3, 2]).info.storage).toBe(x.info.storage);
      expect(x.view([6]).info.storage).toBe(x.info.storage);
    });

    it('reshape of an int32 tensor keeps dtype and values', () => {
      const ids = T.tensor(new Int32Array([1, 2, 3, 4]), [2, 2]).reshape([4]);
      expect(ids.dtype).toBe('int32');
      expect(Array.from(ids.toInt32Array())).toEqual([1, 2, 3, 4]);
    });

    it('a size mismatch throws with both shapes', () => {
      const x = T.zeros([2, 3]);
      expect(() => x.reshape([4, 2])).toThrow(new Error('reshape: cannot view [2,3] (6 elements) as [4,2]'));
      expect(() => x.reshape([-1, 4])).toThrow(new Error('reshape: cannot view [2,3] (6 elements) as [-1,4]'));
    });
  });

  describe('permute / transpose', () => {
    it('random permutations of random shapes', () => {
      fc.assert(
        fc.property(shapeArb(1, 4), seedArb, (shape, seed) => {
          const rng = new TestRng(seed);
          const perm = shuffle(shape.length, rng);
          const asked = perm.map((axis) => (rng.next() < 0.3 ? axis - shape.length : axis));
          checkOp({
            label: `permute [${shape}] by [${asked}]`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => x.permute(asked),
            ref: ([x]) => permuteRef(x, perm),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('transpose(d0, d1) swaps two axes (negative axes too), incl. the last two of a batch', () => {
      fc.assert(
        fc.property(shapeArb(2, 4), seedArb, (shape, seed) => {
          const rng = new TestRng(seed);
          const rank = shape.length;
          const d0 = Math.floor(rng.next() * rank);
          const d1 = Math.floor(rng.next() * rank);
          const perm = Array.from({ length: rank }, (_, i) => i);
          [perm[d0], perm[d1]] = [perm[d1], perm[d0]];
          checkOp({
            label: `transpose [${shape}] ${d0} ${d1}`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => x.transpose(d0 - rank, d1),
            ref: ([x]) => permuteRef(x, perm),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
          checkOp({
            label: `transpose last two [${shape}]`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => T.transpose(x, -1, -2),
            ref: ([x]) => permuteRef(x, [...perm.keys()].map((i) => (i === rank - 1 ? rank - 2 : i === rank - 2 ? rank - 1 : i))),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 30 },
      );
    });

    it('attention-head permute [2,17,3,5] -> [2,3,17,5] and a 1000-long axis', () => {
      const rng = new TestRng(9);
      for (const [shape, perm] of [
        [[2, 17, 3, 5], [0, 2, 1, 3]],
        [[1000, 3], [1, 0]],
        [[3, 1000, 2], [2, 0, 1]],
      ] as const) {
        checkOp({
          label: `permute [${shape}]`,
          inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
          run: ([x]) => x.permute(perm),
          ref: ([x]) => permuteRef(x, perm),
          forward: { rtol: 0, atol: 0 },
        });
      }
    });

    it('int32 tensors permute too', () => {
      const ids = T.tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]).permute([1, 0]);
      expect(ids.dtype).toBe('int32');
      expect(ids.toArray()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
    });

    it('a non-permutation throws', () => {
      const x = T.zeros([2, 3, 4]);
      expect(() => x.permute([0, 0, 1])).toThrow(new Error('permute: [0,0,1] is not a permutation of the 3 axes of [2,3,4]'));
      expect(() => x.permute([0, 1])).toThrow(new Error('permute: [0,1] is not a permutation of the 3 axes of [2,3,4]'));
      expect(() => x.permute([0, 1, 3])).toThrow(new Error('permute: axis 3 is out of range for a tensor of rank 3'));
      expect(() => x.transpose(0, 3)).toThrow(new Error('transpose: axis 3 is out of range for a tensor of rank 3'));
    });
  });

  describe('concat', () => {
    it('joins 1-4 tensors along a random axis; gradients split back', () => {
      fc.assert(
        fc.property(shapeArb(1, 3, 100), seedArb, fc.integer({ min: 1, max: 4 }), (shape, seed, count) => {
          const rng = new TestRng(seed);
          const axis = Math.floor(rng.next() * shape.length);
          const shapes = Array.from({ length: count }, () => shape.map((d, i) => (i === axis ? [1, 2, 3, 17][Math.floor(rng.next() * 4)] : d)));
          const asked = rng.next() < 0.5 ? axis : axis - shape.length;
          checkOp({
            label: `concat ${shapes.map((s) => `[${s}]`).join(' ')} axis ${asked}`,
            inputs: shapes.map((s) => ({ shape: s, data: rng.uniform(shapeSize(s)) })),
            run: (xs) => T.concat(xs, asked),
            ref: (xs) => concatRef(xs, axis),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('int32 concat, and a zero-length piece', () => {
      const a = T.tensor(new Int32Array([1, 2]), [1, 2]);
      const b = T.tensor(new Int32Array([3, 4, 5, 6]), [2, 2]);
      const joined = T.concat([a, b], 0);
      expect(joined.dtype).toBe('int32');
      expect(joined.toArray()).toEqual([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      const x = T.tensor([1, 2, 3], [3, 1], { requiresGrad: true });
      const empty = T.zeros([3, 0], { requiresGrad: true });
      const out = T.concat([empty, x], 1);
      expectShape(out, [3, 1]);
      out.sum().backward();
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([1, 1, 1]);
      expectShape(empty.grad!, [3, 0]);
    });

    it('mismatched shapes or dtypes throw', () => {
      expect(() => T.concat([T.zeros([2, 3]), T.zeros([3, 2])], 0)).toThrow(
        new Error('concat: tensor 1 has shape [3,2], incompatible with [2,3] along axis 0'),
      );
      expect(() => T.concat([T.zeros([2, 3]), T.zeros([2, 3, 1])], 1)).toThrow(/^concat: tensor 1 has shape \[2,3,1\]/);
      expect(() => T.concat([T.zeros([2]), T.tensor(new Int32Array([1]))], 0)).toThrow(new Error('concat: tensor 1 is int32, tensor 0 is float32'));
      expect(() => T.concat([], 0)).toThrow(new Error('concat: needs at least one tensor'));
    });
  });

  describe('slice / narrow', () => {
    it('random boxes (size -1 = to the end); gradient scatters back into zeros', () => {
      fc.assert(
        fc.property(shapeArb(1, 4), seedArb, (shape, seed) => {
          const rng = new TestRng(seed);
          const begin = shape.map((d) => Math.floor(rng.next() * d));
          const size = shape.map((d, i) => Math.floor(rng.next() * (d - begin[i] + 1)));
          const asked = size.map((s, i) => (rng.next() < 0.2 ? -1 : s));
          const finalSize = asked.map((s, i) => (s === -1 ? shape[i] - begin[i] : s));
          checkOp({
            label: `slice [${shape}] begin [${begin}] size [${asked}]`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => x.slice(begin, asked),
            ref: ([x]) => sliceRef(x, begin, finalSize),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 40 },
      );
    });

    it('narrow(dim, start, length) is a slice along one axis', () => {
      fc.assert(
        fc.property(shapeArb(1, 4), seedArb, (shape, seed) => {
          const rng = new TestRng(seed);
          const dim = Math.floor(rng.next() * shape.length);
          const start = Math.floor(rng.next() * shape[dim]);
          const length = 1 + Math.floor(rng.next() * (shape[dim] - start));
          const begin = shape.map((_, i) => (i === dim ? start : 0));
          const size = shape.map((d, i) => (i === dim ? length : d));
          checkOp({
            label: `narrow [${shape}] dim ${dim} start ${start} length ${length}`,
            inputs: [{ shape, data: rng.uniform(shapeSize(shape)) }],
            run: ([x]) => x.narrow(dim - (rng.next() < 0.5 ? shape.length : 0), start, length),
            ref: ([x]) => sliceRef(x, begin, size),
            forward: { rtol: 0, atol: 0 },
            seed,
          });
        }),
        { numRuns: 30 },
      );
    });

    it('a 1000-long axis, and int32 slices', () => {
      const rng = new TestRng(5);
      checkOp({
        label: 'narrow [3,1000]',
        inputs: [{ shape: [3, 1000], data: rng.uniform(3000) }],
        run: ([x]) => x.narrow(1, 17, 900),
        ref: ([x]) => sliceRef(x, [0, 17], [3, 900]),
        forward: { rtol: 0, atol: 0 },
      });
      const ids = T.tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]).slice([1, 1], [1, 2]);
      expect(ids.dtype).toBe('int32');
      expect(ids.toArray()).toEqual([[5, 6]]);
    });

    it('out-of-range boxes throw', () => {
      const x = T.zeros([2, 3]);
      expect(() => x.slice([0, 2], [2, 2])).toThrow(new Error('slice: box begin [0,2] size [2,2] falls outside [2,3] on axis 1'));
      expect(() => x.slice([0], [1])).toThrow(new Error('slice: begin [0] and size [1] must both have 2 entries for [2,3]'));
      expect(() => x.slice([-1, 0], [1, 1])).toThrow(/^slice: box begin \[-1,0\] size \[1,1\] falls outside \[2,3\] on axis 0/);
      expect(() => x.narrow(1, 2, 2)).toThrow(/^slice: box begin \[0,2\] size \[2,2\] falls outside \[2,3\]/);
      expect(() => x.narrow(2, 0, 1)).toThrow(new Error('narrow: axis 2 is out of range for a tensor of rank 2'));
    });
  });

  describe('zero-size and rank-6 tensors', () => {
    it('zero-size dims flow through every op with numpy semantics', () => {
      expectShape(T.add(T.zeros([0, 3]), T.ones([3])), [0, 3]);
      expect(Array.from(T.sum(T.zeros([0, 3]), 0).toFloat32Array())).toEqual([0, 0, 0]);
      expectShape(T.sum(T.zeros([0, 3]), 1), [0]);
      expect(T.mean(T.zeros([0, 3]), 0).toFloat32Array().every(Number.isNaN)).toBe(true);
      expect(T.matmul(T.zeros([2, 0]), T.zeros([0, 3])).toArray()).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      expectShape(T.matmul(T.zeros([0, 4]), T.zeros([4, 3])), [0, 3]);
      expectShape(T.softmax(T.zeros([0, 5])), [0, 5]);
      expectShape(T.layerNorm(T.zeros([0, 4]), T.ones([4]), T.zeros([4])), [0, 4]);
      expect(T.crossEntropy(T.zeros([0, 4]), T.tensor(new Int32Array(0))).item()).toBe(0);
      expectShape(T.embedding(T.ones([3, 2]), T.tensor(new Int32Array(0))), [0, 2]);
      expectShape(T.permute(T.zeros([0, 3]), [1, 0]), [3, 0]);
      const a = T.zeros([2, 0], { requiresGrad: true });
      const b = T.zeros([0, 3], { requiresGrad: true });
      T.matmul(a, b).sum().backward();
      expectShape(a.grad!, [2, 0]);
      expect(Array.from(b.grad!.toFloat32Array())).toEqual([]);
    });

    it('rank-6 permute, sum and broadcast', () => {
      const rng = new TestRng(12);
      const shape = [2, 1, 3, 1, 2, 4];
      checkOp({
        label: 'permute rank 6',
        inputs: [{ shape, data: rng.uniform(48) }],
        run: ([x]) => x.permute([5, 2, 4, 0, 3, 1]),
        ref: ([x]) => permuteRef(x, [5, 2, 4, 0, 3, 1]),
        forward: { rtol: 0, atol: 0 },
      });
      checkOp({
        label: 'sum rank 6',
        inputs: [{ shape, data: rng.uniform(48) }],
        run: ([x]) => x.sum([0, 2, 5], true),
        ref: ([x]) => sumRef(x, [0, 2, 5], true),
      });
      checkOp({
        label: 'mul rank 6',
        inputs: [
          { shape: [2, 1, 3, 1, 2, 1], data: rng.uniform(12) },
          { shape: [3, 2, 2, 4], data: rng.uniform(48) },
        ],
        run: ([x, y]) => T.mul(x, y),
        ref: ([x, y]) => map2(x, y, (p, q) => p * q),
      });
    });
  });

  describe('broadcastTo / cast', () => {
    it('broadcastTo expands size-1 and missing leading dims; gradient sums back', () => {
      const rng = new TestRng(3);
      for (const [from, to] of [
        [[3], [2, 3]],
        [[2, 1], [2, 5]],
        [[], [3, 1, 2]],
        [[1, 17, 1], [2, 17, 3]],
      ] as const) {
        checkOp({
          label: `broadcastTo [${from}] -> [${to}]`,
          inputs: [{ shape: from, data: rng.uniform(shapeSize(from)) }],
          run: ([x]) => T.broadcastTo(x, to),
          ref: ([x]) => map2(x, nd(to, new Float64Array(shapeSize(to))), (p) => p),
          forward: { rtol: 0, atol: 0 },
        });
      }
      expect(() => T.broadcastTo(T.zeros([2, 3]), [3])).toThrow(/^broadcastTo: /);
      expect(() => T.broadcastTo(T.zeros([2, 3]), [4, 3])).toThrow(/^broadcastTo: /);
    });

    it('cast float32 -> int32 truncates toward zero and back', () => {
      const x = T.tensor([1.7, -1.7, 2.5, -0.2, 3]);
      const ints = T.cast(x, 'int32');
      expect(ints.dtype).toBe('int32');
      expect(Array.from(ints.toInt32Array())).toEqual([1, -1, 2, 0, 3]);
      const back = ints.cast('float32');
      expect(back.dtype).toBe('float32');
      expect(Array.from(back.toFloat32Array())).toEqual([1, -1, 2, 0, 3]);
    });
  });
});
