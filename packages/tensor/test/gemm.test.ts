import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  gemm,
  gemmInfo,
  gemmLastRun,
  gemmReady,
  setGemmOptions,
  setGemmThreads,
  shutdownGemm,
  type GemmKernel,
} from '../src/backends/cpu/gemm/index.js';
import { relaxedSupported, simdSupported } from '../src/backends/cpu/gemm/runtime.js';

/** Deterministic values in [-1, 1) so failures replay. */
function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Float64 reference for one product: C[m,n] = op(A) op(B) (+ C0), read at element offsets.
 * `magnitude` is max over C of sum |a||b| (+ |c0|): float32 summation error scales with it, not with
 * |C|, which can be tiny when terms cancel (m = n = 1, k = 2 made that flaky).
 */
function reference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c0?: Float32Array,
  cOff = 0,
): Float64Array & { magnitude: number } {
  const out = Object.assign(new Float64Array(m * n), { magnitude: 0 });
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = c0 ? c0[cOff + i * n + j] : 0;
      let size = Math.abs(sum);
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOff + p * m + i] : a[aOff + i * k + p];
        const bv = transB ? b[bOff + j * k + p] : b[bOff + p * n + j];
        sum += av * bv;
        size += Math.abs(av * bv);
      }
      out[i * n + j] = sum;
      out.magnitude = Math.max(out.magnitude, size);
    }
  }
  return out;
}

/** max|got - ref| / max(|ref|, sum |a||b|) over one product stored at `off` in `got`. */
function relError(got: Float32Array, off: number, ref: Float64Array & { magnitude?: number }): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[off + i];
    if (!Number.isFinite(g)) return Infinity;
    err = Math.max(err, Math.abs(g - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  scale = Math.max(scale, ref.magnitude ?? 0);
  return scale === 0 ? err : err / scale;
}

const TOL = 1e-5;
const kernels: GemmKernel[] = ['js', ...(simdSupported() ? (['simd'] as const) : []), ...(relaxedSupported() ? (['relaxed'] as const) : [])];

function useKernel(kernel: GemmKernel, threads: number): void {
  // wasmMinMacs 0 keeps tiny products on the kernel under test instead of the JS shortcut;
  // parallelMinMacs 0 makes every product use the pool when threads > 1.
  setGemmOptions({ kernel, threads, wasmMinMacs: 0, parallelMinMacs: 0 });
}

afterEach(() => {
  setGemmOptions({ kernel: 'auto', wasmMinMacs: 1024, parallelMinMacs: 1 << 21 });
});
afterAll(() => shutdownGemm());

const SHAPES: Array<[number, number, number]> = [
  // [m, k, n]: remainders of the 4x8 tile in every dimension, K blocks of 256 with a tail.
  [1, 1, 1],
  [3, 3, 3],
  [17, 17, 17],
  [1, 17, 3],
  [3, 1, 17],
  [17, 3, 1],
  [1000, 3, 17],
  [3, 1000, 17],
  [17, 3, 1000],
  [1, 1000, 1],
  [33, 300, 65],
];

describe('gemm against a float64 reference', () => {
  for (const kernel of kernels) {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${kernel}: transA=${transA} transB=${transB} on odd shapes`, () => {
        useKernel(kernel, 1);
        for (const [m, k, n] of SHAPES) {
          const a = randomArray(m * k, m * 7 + k);
          const b = randomArray(k * n, n * 13 + k);
          const c = new Float32Array(m * n).fill(Number.NaN); // every element must be written
          gemm({ transA, transB, m, n, k, a, b, c });
          const err = relError(c, 0, reference(transA, transB, m, n, k, a, 0, b, 0));
          expect(err, `m=${m} k=${k} n=${n}`).toBeLessThan(TOL);
        }
      });
    }
  }

  it('reports the kernel in use and refuses bad thread counts', () => {
    const info = gemmInfo();
    expect(info.simd).toBe(simdSupported());
    expect(info.threads).toBeGreaterThanOrEqual(1);
    // Node with shared memory: helpers are worker_threads; otherwise the reason is named.
    if (info.simd && typeof SharedArrayBuffer === 'function' && process.env.RETRO_GEMM_SHARED !== '0') {
      expect(info.workers).toBe('worker_threads');
      expect(info.singleThreadReason).toBeUndefined();
    } else {
      expect(info.workers).toBe('none');
      expect(info.singleThreadReason).toMatch(/\w/);
    }
    expect(() => setGemmThreads(0)).toThrow(/threads/);
    expect(() => setGemmThreads(1.5)).toThrow(/threads/);
  });
});

describe('gemm batches, strides, accumulate and k = 0', () => {
  for (const kernel of kernels) {
    it(`${kernel}: batch with gaps between items, shared B and accumulate`, () => {
      useKernel(kernel, 1);
      const [m, k, n, batch] = [5, 19, 9, 3];
      for (const shareB of [false, true]) {
        for (const accumulate of [false, true]) {
          for (const [transA, transB] of [
            [false, false],
            [true, true],
          ] as const) {
            // Strides larger than the items prove gaps are skipped, not read or written.
            const strideA = m * k + 3;
            const strideB = shareB ? 0 : k * n + 5;
            const strideC = m * n + 2;
            const a = randomArray(strideA * batch, 11);
            const b = randomArray(shareB ? k * n : strideB * batch, 12);
            const c = randomArray(strideC * batch, 13);
            const before = c.slice();
            gemm({ transA, transB, m, n, k, a, b, c, batch, strideA, strideB, strideC, accumulate });
            for (let t = 0; t < batch; t++) {
              const ref = reference(
                transA,
                transB,
                m,
                n,
                k,
                a,
                t * strideA,
                b,
                t * strideB,
                accumulate ? before : undefined,
                t * strideC,
              );
              const label = `item ${t} shareB=${shareB} accumulate=${accumulate} transA=${transA}`;
              expect(relError(c, t * strideC, ref), label).toBeLessThan(TOL);
              // The gap after each item is untouched.
              const gapStart = t * strideC + m * n;
              expect(Array.from(c.subarray(gapStart, gapStart + 2)), label).toEqual(
                Array.from(before.subarray(gapStart, gapStart + 2)),
              );
            }
          }
        }
      }
    });

    it(`${kernel}: k = 0 gives zeros, or leaves C alone when accumulating`, () => {
      useKernel(kernel, 1);
      const c = new Float32Array([1, 2, 3, 4, 5, 6]);
      gemm({ transA: false, transB: false, m: 2, n: 3, k: 0, a: new Float32Array(0), b: new Float32Array(0), c, accumulate: true });
      expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6]);
      gemm({ transA: true, transB: true, m: 2, n: 3, k: 0, a: new Float32Array(0), b: new Float32Array(0), c });
      expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  }

  it('hand-computed 2x2 product, all transposes', () => {
    useKernel(kernels[kernels.length - 1], 1);
    // A = [[1,2],[3,4]], B = [[5,6],[7,8]]: AB = [[19,22],[43,50]], A^T B = [[26,30],[38,44]],
    // A B^T = [[17,23],[39,53]], A^T B^T = [[23,31],[34,46]].
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const run = (transA: boolean, transB: boolean): number[] => {
      const c = new Float32Array(4);
      gemm({ transA, transB, m: 2, n: 2, k: 2, a, b, c });
      return Array.from(c);
    };
    expect(run(false, false)).toEqual([19, 22, 43, 50]);
    expect(run(true, false)).toEqual([26, 30, 38, 44]);
    expect(run(false, true)).toEqual([17, 23, 39, 53]);
    expect(run(true, true)).toEqual([23, 31, 34, 46]);
  });
});

describe('gemm errors', () => {
  it('names the operand and shapes when an array is too short', () => {
    const a = new Float32Array(5);
    const b = new Float32Array(6);
    const c = new Float32Array(4);
    expect(() => gemm({ transA: false, transB: false, m: 2, n: 2, k: 3, a, b, c })).toThrow(/a \[m=2, k=3\].*needs 6.*found 5/);
    expect(() =>
      gemm({ transA: false, transB: false, m: 2, n: 2, k: 3, a: new Float32Array(12), b, c, batch: 2 }),
    ).toThrow(/b \[k=3, n=2\] x batch 2/);
    expect(() => gemm({ transA: false, transB: false, m: -1, n: 2, k: 3, a, b, c })).toThrow(/m must be/);
  });

  it('refuses a product over the wasm32 memory limit, naming the shapes', () => {
    if (!simdSupported()) return;
    useKernel('simd', 1);
    const m = 50000;
    const n = 50000;
    // C would need 10 GB; a stand-in with the right length is never touched before the check.
    const c = { length: m * n } as unknown as Float32Array;
    expect(() =>
      gemm({ transA: false, transB: false, m, n, k: 1, a: new Float32Array(m), b: new Float32Array(n), c }),
    ).toThrow(/gemm: m=50000 k=1 n=50000 needs \d+ MiB.*maximum/);
  });
});

describe('gemm threads', () => {
  const wasmKernels = kernels.filter((k) => k !== 'js');
  beforeAll(async () => {
    if (wasmKernels.length === 0) return;
    useKernel(wasmKernels[0], 2);
    await gemmReady();
  });

  for (const kernel of wasmKernels) {
    it(`${kernel}: 2 threads give bit-identical results to 1, and the worker takes part`, async () => {
      const shapes: Array<[number, number, number, number, boolean, boolean]> = [
        [130, 300, 70, 1, false, true],
        [64, 600, 200, 1, true, false],
        [9, 33, 17, 40, false, false],
      ];
      let workerItems = 0;
      for (const [m, k, n, batch, transA, transB] of shapes) {
        const a = randomArray(m * k * batch, 21);
        const b = randomArray(k * n * batch, 22);
        useKernel(kernel, 1);
        const one = new Float32Array(m * n * batch);
        gemm({ transA, transB, m, n, k, a, b, c: one, batch });
        useKernel(kernel, 2);
        await gemmReady();
        for (let rep = 0; rep < 10; rep++) {
          const two = new Float32Array(m * n * batch).fill(Number.NaN);
          gemm({ transA, transB, m, n, k, a, b, c: two, batch });
          const run = gemmLastRun();
          expect(run.threads).toBe(2);
          workerItems += run.items - run.callerItems;
          expect(two).toEqual(one);
        }
        for (let t = 0; t < batch; t++) {
          const ref = reference(transA, transB, m, n, k, a, t * m * k, b, t * k * n);
          expect(relError(one, t * m * n, ref)).toBeLessThan(TOL);
        }
      }
      // Items are claimed dynamically, so a descheduled worker may miss a job, but not 30.
      expect(workerItems).toBeGreaterThan(0);
    });
  }
});

describe('gemm property: random shapes and flags', () => {
  it('matches the float64 reference', () => {
    const wasmKernels = kernels.filter((k) => k !== 'js');
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 70 }),
          n: fc.integer({ min: 1, max: 40 }),
          batch: fc.integer({ min: 1, max: 3 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          shareB: fc.boolean(),
          accumulate: fc.boolean(),
          threads: fc.constantFrom(1, 2),
          kernel: fc.constantFrom(...(wasmKernels.length ? wasmKernels : (['js'] as GemmKernel[]))),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ m, k, n, batch, transA, transB, shareB, accumulate, threads, kernel, seed }) => {
          useKernel(kernel, threads);
          const a = randomArray(m * k * batch, seed);
          const b = randomArray(shareB ? k * n : k * n * batch, seed + 1);
          const c = randomArray(m * n * batch, seed + 2);
          const before = c.slice();
          const strideB = shareB ? 0 : k * n;
          gemm({ transA, transB, m, n, k, a, b, c, batch, strideB, accumulate });
          for (let t = 0; t < batch; t++) {
            const ref = reference(transA, transB, m, n, k, a, t * m * k, b, t * strideB, accumulate ? before : undefined, t * m * n);
            expect(relError(c, t * m * n, ref)).toBeLessThan(TOL);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
