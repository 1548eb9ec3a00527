/**
 * Optimizer state in the shared wasm memory (src/backends/cpu/resident.ts): `stateTensor` places
 * AdamW's moments there on the cpu, the AdamW kernel then updates them in place, and nothing else
 * may disturb them. Checked: the kernel's results on resident moments equal, bit for bit, its
 * results on ordinary arrays (both kernel paths, 1 and 3 threads, sizes across the 1M-element
 * chunks and with a padded tail); GEMMs and row kernels run after the moments exist leave them
 * unchanged (their scratch here stays far below 2 GiB; that scratch is capped there once state
 * exists is checked on scratchCeiling itself); the allocator's first fit, splits, merges and exhaustion; bad input names the shape.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { BlockAllocator, residentAddress, residentSupported, scratchCeiling, RESIDENT_BASE } from '../src/backends/cpu/resident.js';
import { TestRng } from './helpers/rng.js';

const floats = (n: number, rng: TestRng, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
const info = (data: Float32Array): T.TensorInfo => ({ storage: data, shape: [data.length], dtype: 'float32', backend: 'cpu' });

/** Bit for bit, naming the first element that differs (toEqual on a million floats is slow). */
function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const first = a.findIndex((bits, i) => bits !== b[i]);
  expect(first, `${what}: first difference at ${first} (${actual[first]} vs ${expected[first]})`).toBe(-1);
}

beforeAll(async () => {
  T.setBackend('cpu');
  await T.gemmReady();
});
afterAll(() => {
  T.setGemmThreads(availableParallelism());
  T.setCpuKernelPath('wasm-simd');
});

describe('stateTensor on the cpu', () => {
  it('lives in the shared wasm memory on Node, zeros or a copy of the values', () => {
    expect(residentSupported()).toBe(true);
    const before = T.cpuStateMemoryStats();
    const zeros = T.stateTensor([3, 5]);
    const values = Float32Array.from({ length: 15 }, (_, i) => i - 7.5);
    const copied = T.stateTensor([15], values);
    expect(T.cpuStateMemoryStats().allocated - before.allocated).toBe(2);
    for (const t of [zeros, copied]) {
      const storage = t.info.storage as Float32Array;
      expect(storage.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(residentAddress(storage)).toBeGreaterThanOrEqual(RESIDENT_BASE);
    }
    expect(Array.from(zeros.dataSync())).toEqual(new Array(15).fill(0));
    expect(copied.dataSync()).toEqual(values);
    expect(copied.info.storage).not.toBe(values);
    // scratch stays below the resident region from now on
    expect(scratchCeiling(2 ** 32)).toBe(RESIDENT_BASE);
  });

  it('rejects values that do not fill the shape, naming both', () => {
    expect(() => T.stateTensor([2, 3], new Float32Array(5))).toThrow('stateTensor: 5 values for shape [2,3] (6 elements)');
    expect(() => T.stateTensor([2, -1])).toThrow(/stateTensor: invalid shape \[2,-1\]/);
  });
});

describe('AdamW on resident moments', () => {
  const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, step: 3, gradScale: 0.7 };
  /** p, m, v after `steps` AdamW steps, with the moments resident or ordinary. */
  function run(n: number, resident: boolean, seed: number, steps = 2): Float32Array[] {
    const rng = new TestRng(seed);
    const p = floats(n, rng);
    const m0 = floats(n, rng, 0.1);
    const v0 = Float32Array.from(floats(n, rng, 0.01), Math.abs);
    const m = resident ? (T.stateTensor([n], m0).info.storage as Float32Array) : m0.slice();
    const v = resident ? (T.stateTensor([n], v0).info.storage as Float32Array) : v0.slice();
    for (let step = 1; step <= steps; step++) {
      const g = floats(n, rng);
      T.runKernel(T.KERNELS.AdamW, [info(p), info(g), info(m), info(v)], { ...attrs, step });
    }
    return [p, Float32Array.from(m), Float32Array.from(v)];
  }

  for (const path of ['wasm-simd', 'js'] as const) {
    for (const threads of [1, 3]) {
      it(`${path}, ${threads} thread(s): p, m, v equal those of ordinary moments bit for bit`, () => {
        T.setCpuKernelPath(path);
        T.setGemmThreads(threads);
        // the SIMD path: across its 1M-element chunks too
        const sizes = path === 'wasm-simd' ? [1, 7, 4099, 40_001, (1 << 20) + 4099] : [1, 7, 4099];
        for (const n of sizes) {
          const plain = run(n, false, n);
          const resident = run(n, true, n);
          ['p', 'm', 'v'].forEach((name, i) => expectSameBits(resident[i], plain[i], `${name}, n = ${n}`));
        }
      });
    }
  }

  it('a resident neighbour is not touched by the padded last block of the one before it', () => {
    T.setCpuKernelPath('wasm-simd');
    const rng = new TestRng(5);
    const m = T.stateTensor([5], floats(5, rng)).info.storage as Float32Array;
    const v = T.stateTensor([5], Float32Array.from(floats(5, rng), Math.abs)).info.storage as Float32Array;
    const neighbour = T.stateTensor([64], floats(64, rng));
    const before = Float32Array.from(neighbour.dataSync());
    T.runKernel(T.KERNELS.AdamW, [info(floats(5, rng)), info(floats(5, rng)), info(m), info(v)], { ...attrs, step: 1 });
    expect(Float32Array.from(neighbour.dataSync())).toEqual(before);
  });
});

describe('kernels run after state exists', () => {
  it('GEMMs and row kernels of every size leave resident values unchanged', () => {
    T.setCpuKernelPath('wasm-simd');
    T.setGemmThreads(3);
    const rng = new TestRng(9);
    const values = floats(1 << 16, rng);
    const state = T.stateTensor([values.length], values);
    const a = T.tensor(floats(700 * 900, rng), [700, 900]);
    const b = T.tensor(floats(900 * 1100, rng), [900, 1100]);
    const product = T.matmul(a, b);
    const activated = T.gelu(product);
    T.softmax(activated).dataSync();
    expect(state.dataSync()).toEqual(values);
  });
});

describe('BlockAllocator', () => {
  it('takes first fit, splits, merges on give, and says when it is full', () => {
    const alloc = new BlockAllocator(1000, 1400);
    const a = alloc.take(100)!;
    const b = alloc.take(100)!;
    const c = alloc.take(100)!;
    expect([a.at, b.at, c.at]).toEqual([1000, 1100, 1200]);
    expect(alloc.take(101)).toBeUndefined();
    alloc.give(b);
    expect(alloc.take(40)).toEqual({ at: 1100, bytes: 40 });
    alloc.give(a);
    alloc.give(c);
    // a + the rest of b merged ([1000, 1100) + [1140, 1200) are apart; [1140, 1300) merged with c)
    expect(alloc.free).toEqual([
      { at: 1000, bytes: 100 },
      { at: 1140, bytes: 160 },
    ]);
    expect(alloc.take(150)).toEqual({ at: 1140, bytes: 150 });
    expect(alloc.take(100)).toEqual({ at: 1000, bytes: 100 });
    expect(alloc.take(100)).toEqual({ at: 1300, bytes: 100 });
    expect(alloc.take(11)).toBeUndefined();
    expect(alloc.take(10)).toEqual({ at: 1290, bytes: 10 });
  });
});
