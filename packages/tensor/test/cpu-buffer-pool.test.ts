/**
 * The cpu buffer pool (src/backends/cpu/buffer-pool.ts): with recycling on, storage a scope frees
 * comes back as a later kernel's output, and never while anyone may still see it: arrays handed
 * out by dataSync, arrays a tensor was made from, a storage freed twice, subarray views. Values
 * computed through recycled arrays equal those computed without recycling (a small MLP's forward,
 * backward and gradients, bitwise).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { TestRng } from './helpers/rng.js';

const N = 1024;
const randomTensor = (rng: TestRng, shape: number[]): T.Tensor => T.tensor(Float32Array.from(rng.uniform(shape.reduce((a, b) => a * b, 1), -1, 1)), shape);

describe('cpu buffer recycling', () => {
  beforeAll(() => T.setBackend('cpu'));
  afterEach(() => T.setCpuBufferRecycling(false));

  it('is off by default: scopes free nothing on the cpu and nothing is reused', () => {
    expect(T.cpuBufferRecycling()).toBe(false);
    const x = randomTensor(new TestRng(1), [N]);
    const before = T.cpuBufferPoolStats();
    const kept = T.scope(() => {
      x.exp();
      return x.mul(x);
    });
    T.scope(() => x.exp());
    const after = T.cpuBufferPoolStats();
    expect(after.recycled).toBe(before.recycled);
    expect(after.reused).toBe(before.reused);
    expect(kept.toFloat32Array()[0]).toBe(Math.fround(x.toFloat32Array()[0] * x.toFloat32Array()[0]));
  });

  it("reuses a scope's temporaries as later outputs of the same size, with the later values", () => {
    T.setCpuBufferRecycling(true);
    const x = randomTensor(new TestRng(2), [N]);
    let temporary: Float32Array | undefined;
    T.scope(() => {
      const e = x.exp();
      temporary = e.info.storage as Float32Array;
      return null;
    });
    const reusedBefore = T.cpuBufferPoolStats().reused;
    const y = T.scope(() => x.mul(x));
    expect(T.cpuBufferPoolStats().reused).toBe(reusedBefore + 1);
    expect(y.info.storage).toBe(temporary);
    const xs = x.toFloat32Array();
    const ys = y.toFloat32Array();
    for (let i = 0; i < N; i++) expect(ys[i]).toBe(Math.fround(xs[i] * xs[i]));
  });

  it('never recycles an array dataSync handed out, nor one a tensor was made from', () => {
    T.setCpuBufferRecycling(true);
    const rng = new TestRng(3);
    const mine = Float32Array.from(rng.uniform(N, -1, 1));
    const copyOfMine = mine.slice();
    let seen: Float32Array | undefined;
    let seenCopy: Float32Array | undefined;
    T.scope(() => {
      const fromMine = T.tensor(mine, [N]);
      const e = fromMine.exp();
      seen = e.dataSync() as Float32Array;
      seenCopy = seen.slice();
      return null;
    });
    // Outputs of the same size, which would take a recycled array if there were one.
    const outputs = T.scope(() => [0, 1, 2].map((k) => randomTensor(rng, [N]).add(k)));
    for (const out of outputs) {
      expect(out.info.storage).not.toBe(seen);
      expect(out.info.storage).not.toBe(mine);
    }
    expect(seen).toEqual(seenCopy);
    expect(mine).toEqual(copyOfMine);
  });

  it('readSync reads the values without handing the storage out: it is still recycled when freed', () => {
    T.setCpuBufferRecycling(true);
    const x = randomTensor(new TestRng(5), [N]);
    const xs = x.toFloat32Array();
    let read: Float32Array | undefined;
    let sum = 0;
    T.scope(() => {
      const e = x.exp();
      sum = e.readSync((values) => {
        read = values as Float32Array;
        return Array.from(values).reduce((a, b) => a + b, 0);
      });
      return null;
    });
    expect(sum).toBeCloseTo(xs.reduce((a, b) => a + Math.exp(b), 0), 3);
    const y = T.scope(() => x.mul(x));
    expect(y.info.storage).toBe(read);
    // a dataSync read of the same kind of temporary is never recycled (the case above)
    let seen: Float32Array | undefined;
    T.scope(() => {
      seen = x.exp().dataSync() as Float32Array;
      return null;
    });
    expect(T.scope(() => x.mul(x)).info.storage).not.toBe(seen);
  });

  it('a storage freed twice is pooled once; a stale free after it was issued again frees nothing', () => {
    T.setCpuBufferRecycling(true);
    const x = randomTensor(new TestRng(4), [N]);
    const a = T.scope(() => x.exp());
    a.dispose();
    a.dispose();
    const b = x.mul(x);
    const c = x.add(x);
    expect(b.info.storage).toBe(a.info.storage);
    expect(c.info.storage).not.toBe(b.info.storage);
    // `a` is stale: its storage now belongs to `b`, whose values must survive a.dispose(). (Reading
    // b first would mark its array as handed out and hide the check: expected values come from x.)
    const bExpected = Float32Array.from(x.toFloat32Array(), (v) => v * v);
    a.dispose();
    const d = x.sub(x);
    expect(d.info.storage).not.toBe(b.info.storage);
    expect(b.toFloat32Array()).toEqual(bExpected);
  });

  it('holds at most maxIdleBytes unused, and rejects a bound that is not a number >= 0', () => {
    expect(() => T.setCpuBufferRecycling(true, { maxIdleBytes: -1 })).toThrow(/maxIdleBytes must be a finite number >= 0, got -1/);
    expect(() => T.setCpuBufferRecycling('yes' as unknown as boolean)).toThrow(/on must be true or false, got "yes"/);
    T.setCpuBufferRecycling(true, { maxIdleBytes: 3 * N * 4 });
    const x = randomTensor(new TestRng(6), [N]);
    const recycledBefore = T.cpuBufferPoolStats().recycled;
    T.scope(() => [0, 1, 2, 3, 4].map((k) => x.add(k)) && null);
    expect(T.cpuBufferPoolStats().recycled - recycledBefore, 'three arrays of 4 KB fit under 12 KB').toBe(3);
    expect(T.cpuBufferPoolStats().pooledBytes).toBe(3 * N * 4);
    // A later call without a bound (what train() makes) keeps it; the default is 1 GiB again after.
    T.setCpuBufferRecycling(false);
    T.setCpuBufferRecycling(true);
    T.scope(() => [0, 1, 2, 3, 4].map((k) => x.add(k)) && null);
    expect(T.cpuBufferPoolStats().pooledBytes).toBe(3 * N * 4);
    T.setCpuBufferRecycling(false, { maxIdleBytes: 2 ** 30 });
  });

  it('scratch and outputs through recycled arrays give bitwise the values of fresh ones (MLP forward, backward, gradients)', () => {
    const run = (recycling: boolean): Float32Array[] => {
      T.setCpuBufferRecycling(recycling);
      const rng = new TestRng(5);
      const w1 = T.tensor(Float32Array.from(rng.uniform(64 * 96, -0.3, 0.3)), [64, 96], { requiresGrad: true });
      const w2 = T.tensor(Float32Array.from(rng.uniform(96 * 32, -0.3, 0.3)), [96, 32], { requiresGrad: true });
      const results: Float32Array[] = [];
      for (let step = 0; step < 3; step++) {
        const x = T.tensor(Float32Array.from(rng.uniform(16 * 64, -1, 1)), [16, 64]);
        const loss = T.scope(() => {
          const h = T.matmul(x, w1).gelu();
          const out = T.softmax(T.matmul(h, w2)).mul(T.matmul(h, w2));
          const total = T.sum(out);
          total.backward();
          return total;
        });
        results.push(loss.toFloat32Array().slice(), w1.grad!.toFloat32Array().slice(), w2.grad!.toFloat32Array().slice());
        w1.zeroGrad();
        w2.zeroGrad();
      }
      return results;
    };
    const fresh = run(false);
    const reusedBefore = T.cpuBufferPoolStats().reused;
    const recycled = run(true);
    expect(T.cpuBufferPoolStats().reused, 'recycled arrays were used').toBeGreaterThan(reusedBefore);
    expect(recycled).toEqual(fresh);
  });
});
