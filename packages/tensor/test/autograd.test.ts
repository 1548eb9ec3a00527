/**
 * The tape: gradient accumulation across uses and across backward calls, noGrad, detach,
 * requiresGrad propagation and backward's errors. Gradients are checked against finite
 * differences of float64 references, never against the library itself.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp, expectClose } from './helpers/check.js';
import { crossEntropyRef, embeddingRef, map1, map2, matmulRef, nd, type Nd } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';

describe('the finite-difference harness', () => {
  it('rejects a wrong gradient (x * detach(x) has gradient x, not 2x)', () => {
    const rng = new TestRng(1);
    expect(() =>
      checkOp({
        inputs: [{ shape: [3], data: rng.uniform(3, 0.5, 1) }],
        run: ([x]) => x.mul(x.detach()),
        ref: ([x]) => map1(x, (v) => v * v),
      }),
    ).toThrow(/gradient of input 0 \[3\] vs finite differences/);
    expect(() =>
      checkOp({
        inputs: [{ shape: [400], data: rng.uniform(400, 0.5, 1) }],
        run: ([x]) => x.mul(x.detach()),
        ref: ([x]) => map1(x, (v) => v * v),
        fd: 'directional',
      }),
    ).toThrow(/along a random direction/);
  });
});

await describeBackends('autograd', () => {
  describe('accumulation across uses', () => {
    it('x used twice: d(x*x + x)/dx = 2x + 1', () => {
      const rng = new TestRng(2);
      checkOp({
        inputs: [{ shape: [3, 5], data: rng.uniform(15) }],
        run: ([x]) => T.add(T.mul(x, x), x),
        ref: ([x]) => map1(x, (v) => v * v + v),
      });
    });

    it('a summed gradient handed on to two inputs is never added into in place afterwards', () => {
      // A = p + x gets two contributions (a sum the sweep made); add's backward hands that one
      // tensor to both p and the leaf x. p then receives w's contribution: adding it into the
      // shared sum in place would also change what x receives. t = 2A + 3p = 12x, so dt/dx = 12.
      const x = T.tensor([1, -2, 0.5, 4], [2, 2], { requiresGrad: true });
      const p = T.mul(x, 2);
      const A = T.add(p, x);
      const twoA = T.add(T.mul(A, 1), T.mul(A, 1));
      const w = T.mul(p, 3);
      T.add(twoA, w).backward(T.ones([2, 2]));
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([12, 12, 12, 12]);
    });

    it('a diamond: y = exp(x); z = y*y + tanh(y) reaches x through both branches', () => {
      const rng = new TestRng(3);
      checkOp({
        inputs: [{ shape: [17], data: rng.uniform(17) }],
        run: ([x]) => {
          const y = x.exp();
          return y.mul(y).add(y.tanh());
        },
        ref: ([x]) => map1(x, (v) => Math.exp(v) ** 2 + Math.tanh(Math.exp(v))),
      });
    });

    it('a leaf used directly and through a reshape view sums both gradients', () => {
      const rng = new TestRng(4);
      checkOp({
        inputs: [{ shape: [2, 3], data: rng.uniform(6) }],
        run: ([x]) => T.add(x.reshape([3, 2]).permute([1, 0]), x.mul(2)),
        ref: ([x]) => {
          // x.reshape([3,2]).permute([1,0])[i][j] = x.flat[j*2 + i]
          const data = new Float64Array(6);
          for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) data[i * 3 + j] = x.data[j * 2 + i] + 2 * x.data[i * 3 + j];
          return nd([2, 3], data);
        },
      });
    });

    it('a tied weight: embedding lookup and output projection (h W^T) share W', () => {
      const vocab = 7;
      const hidden = 5;
      const rng = new TestRng(5);
      const ids = Int32Array.from([3, 1, 3, 6, 0]);
      const labels = Int32Array.from([1, -100, 3, 3, 6]);
      const proj = rng.uniform(hidden * hidden, -0.5, 0.5);
      checkOp({
        inputs: [
          { shape: [vocab, hidden], data: rng.uniform(vocab * hidden) },
          { shape: [hidden, hidden], data: proj },
        ],
        run: ([w, p]) => {
          const h = T.embedding(w, T.tensor(ids)).matmul(p).tanh();
          return T.crossEntropy(T.matmul(h, w, { transB: true }), T.tensor(labels));
        },
        ref: ([w, p]) => {
          const h = map1(matmulRef(embeddingRef(w, nd([5], ids)), p), Math.tanh);
          return crossEntropyRef(matmulRef(h, w, false, true), labels);
        },
      });
    });

    it('only the operand that requires grad gets one (either side, broadcast)', () => {
      const rng = new TestRng(6);
      const ops: Array<[string, (a: T.Tensor, b: T.Tensor) => T.Tensor, (p: number, q: number) => number]> = [
        ['add', T.add, (p, q) => p + q],
        ['sub', T.sub, (p, q) => p - q],
        ['mul', T.mul, (p, q) => p * q],
        ['div', T.div, (p, q) => p / q],
      ];
      for (const [name, op, ref] of ops) {
        for (const side of [0, 1]) {
          const shapes = [
            [3, 1],
            [4],
          ];
          const data = [rng.awayFromZero(3, 0.5, 2), rng.awayFromZero(4, 0.5, 2)];
          checkOp({
            label: `${name}, grad on operand ${side}`,
            inputs: shapes.map((shape, i) => ({ shape, data: data[i], grad: i === side })),
            run: ([a, b]) => op(a, b),
            ref: ([a, b]) => map2(a, b, ref),
          });
        }
      }
    });
  });

  describe('accumulation across backward calls', () => {
    function lossOf(w: T.Tensor, x: T.Tensor): T.Tensor {
      return T.matmul(x, w).gelu().mean();
    }

    it('adds up until zeroGrad, then starts over', () => {
      const w = T.randn([4, 3], { seed: 1, requiresGrad: true });
      const x = T.randn([5, 4], { seed: 2 });
      lossOf(w, x).backward();
      const once = w.grad!.toFloat32Array();
      lossOf(w, x).backward();
      expectClose(w.grad!.toFloat32Array(), Array.from(once, (v) => 2 * v), { rtol: 1e-6, atol: 0 });
      lossOf(w, x).scale(-0.5).backward();
      expectClose(w.grad!.toFloat32Array(), Array.from(once, (v) => 1.5 * v), { rtol: 1e-6, atol: 1e-9 });
      w.zeroGrad();
      expect(w.grad).toBeNull();
      lossOf(w, x).backward();
      expectClose(w.grad!.toFloat32Array(), once, { rtol: 0, atol: 0 });
      expect(x.grad).toBeNull();
    });

    it('an earlier .grad is never mutated by later accumulation', () => {
      const w = T.ones([3], { requiresGrad: true });
      w.sum().backward();
      const first = w.grad!;
      w.mul(2).sum().backward();
      expect(Array.from(first.toFloat32Array())).toEqual([1, 1, 1]);
      expect(Array.from(w.grad!.toFloat32Array())).toEqual([3, 3, 3]);
    });
  });

  describe('noGrad and detach', () => {
    it('noGrad records nothing, restores grad mode (also after a throw), and nests', () => {
      const x = T.randn([3], { seed: 1, requiresGrad: true });
      expect(T.isGradEnabled()).toBe(true);
      const y = T.noGrad(() => {
        expect(T.isGradEnabled()).toBe(false);
        const inner = T.noGrad(() => x.mul(2));
        expect(T.isGradEnabled()).toBe(false);
        return inner.add(x).exp();
      });
      expect(T.isGradEnabled()).toBe(true);
      expect(y.requiresGrad).toBe(false);
      expect(y.node).toBeNull();
      expect(() => y.sum().backward()).toThrow(
        new Error('backward: this tensor does not require grad (no input of the graph had requiresGrad = true)'),
      );
      expect(() =>
        T.noGrad(() => {
          throw new Error('inside');
        }),
      ).toThrow('inside');
      expect(T.isGradEnabled()).toBe(true);
      expect(x.mul(2).requiresGrad).toBe(true);
    });

    it('detach shares values, needs no grad, and cuts the graph', () => {
      const x = T.tensor([1, 2, 3], undefined, { requiresGrad: true });
      const d = x.detach();
      expect(d.requiresGrad).toBe(false);
      expect(Array.from(d.toFloat32Array())).toEqual([1, 2, 3]);
      const y = x.mul(x.detach()).sum();
      y.backward();
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([1, 2, 3]);
      expect(d.grad).toBeNull();
      const z = x.exp().detach();
      expect(z.requiresGrad).toBe(false);
      expect(() => z.sum().backward()).toThrow(/^backward: this tensor does not require grad/);
    });
  });

  describe('requiresGrad propagation', () => {
    it('outputs require grad exactly when some float input does', () => {
      const a = T.ones([2, 2], { requiresGrad: true });
      const b = T.ones([2, 2]);
      expect(a.node).toBeNull();
      expect(T.add(b, b).requiresGrad).toBe(false);
      expect(T.add(b, b).node).toBeNull();
      const mixed = T.mul(b, a);
      expect(mixed.requiresGrad).toBe(true);
      expect(mixed.node).not.toBeNull();
      expect(mixed.reshape([4]).requiresGrad).toBe(true);
      expect(T.softmax(mixed).requiresGrad).toBe(true);
      expect(T.cast(mixed, 'int32').requiresGrad).toBe(false);
      expect(T.embedding(a, T.tensor(new Int32Array([0]))).requiresGrad).toBe(true);
      expect(T.embedding(b, T.tensor(new Int32Array([0]))).requiresGrad).toBe(false);
    });

    it('int32 tensors cannot require grad; a non-leaf cannot be switched off', () => {
      expect(() => T.tensor(new Int32Array([1]), undefined, { requiresGrad: true })).toThrow(
        new Error('requiresGrad_: only float32 tensors can require grad, got int32'),
      );
      const y = T.ones([2], { requiresGrad: true }).mul(2);
      expect(() => y.requiresGrad_(false)).toThrow(new Error('requiresGrad_: cannot turn off grad on a non-leaf; use detach()'));
      const leaf = T.zeros([2]).requiresGrad_();
      expect(leaf.requiresGrad).toBe(true);
    });

    it('no gradient reaches a softmax mask, a where condition or embedding ids', () => {
      const x = T.randn([2, 3], { seed: 1, requiresGrad: true });
      const mask = T.zeros([3], { requiresGrad: true });
      const cond = T.tensor([1, 0, 1], undefined, { requiresGrad: true });
      T.where(cond, T.softmax(x, mask), 0).sum().backward();
      expect(x.grad).not.toBeNull();
      expect(mask.grad).toBeNull();
      expect(cond.grad).toBeNull();
    });
  });

  describe('backward entry points', () => {
    it('a non-scalar needs an explicit gradient of its own shape', () => {
      const x = T.ones([2, 3], { requiresGrad: true });
      const y = x.mul(2);
      expect(() => y.backward()).toThrow(new Error('backward: an implicit gradient needs a one-element tensor, got shape [2,3]'));
      expect(() => y.backward(T.ones([3, 2]))).toThrow(new Error('backward: gradient shape [3,2] differs from tensor shape [2,3]'));
      y.backward(T.full([2, 3], 0.5));
      expect(Array.from(x.grad!.toFloat32Array())).toEqual(new Array(6).fill(1));
    });

    it('a one-element non-scalar ([1,1]) takes the implicit gradient 1', () => {
      const x = T.tensor([[3]], undefined, { requiresGrad: true });
      x.mul(x).backward();
      expect(x.grad!.toArray()).toEqual([[6]]);
    });

    it('inputs made on cpu join ops and gradients on the active backend', () => {
      const active = T.getBackend().name;
      T.setBackend('cpu');
      const w = T.tensor([1, 2, 3], undefined, { requiresGrad: true });
      const x = T.tensor([[0.5], [-1]]);
      T.setBackend(active);
      try {
        const y = T.mul(x, w).sum();
        expect(y.item()).toBeCloseTo(-3, 6);
        y.backward();
        expect(Array.from(w.grad!.toFloat32Array())).toEqual([-0.5, -0.5, -0.5]);
      } finally {
        T.setBackend(active);
      }
    });

    it('backward on a leaf sets its gradient to the seed', () => {
      const x = T.ones([2], { requiresGrad: true });
      x.backward(T.tensor([4, 5]));
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([4, 5]);
    });

    it('a 3000-op chain back-propagates without recursion limits', () => {
      const x = T.tensor([0.5], undefined, { requiresGrad: true });
      let y = x;
      for (let i = 0; i < 3000; i++) y = y.mul(1.0001).add(0.0001);
      y.sum().backward();
      expectClose(x.grad!.toFloat32Array(), [1.0001 ** 3000], { rtol: 1e-4, atol: 0 });
    });

    it('a composite of matmul, tanh, affine, sqrt, log, div and sub matches finite differences', () => {
      const rng = new TestRng(9);
      const ref = ([x, w]: Nd[]): Nd => {
        let h = matmulRef(x, w);
        h = map1(h, (v) => Math.tanh(v) * 0.5 + Math.sqrt(v * v + 1));
        return map1(h, (v) => Math.log(v) - v / 3);
      };
      checkOp({
        inputs: [
          { shape: [3, 4], data: rng.uniform(12) },
          { shape: [4, 2], data: rng.uniform(8) },
        ],
        run: ([x, w]) => {
          const h = T.matmul(x, w);
          const g = T.add(T.affine(h.tanh(), 0.5, 0), T.sqrt(T.add(h.mul(h), 1)));
          return T.sub(g.log(), g.div(3));
        },
        ref,
      });
    });
  });
});

