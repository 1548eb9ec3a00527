/**
 * matmul / batched matmul with transA, transB and a 2-D b shared across the batch, against a
 * float64 triple loop; gradients of both operands by finite differences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '../src/index.js';
import { oddDim, seedArb } from './helpers/arb.js';
import { describeBackends } from './helpers/backends.js';
import { checkOp } from './helpers/check.js';
import { matmulRef, shapeSize } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';

interface MatmulCase {
  batch: number[];
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  /** b is 2-D and shared by every batch item. */
  shared: boolean;
}

function shapesOf(c: MatmulCase): { a: number[]; b: number[] } {
  const a = [...c.batch, ...(c.transA ? [c.k, c.m] : [c.m, c.k])];
  const b = [...(c.shared ? [] : c.batch), ...(c.transB ? [c.n, c.k] : [c.k, c.n])];
  return { a, b };
}

function runCase(c: MatmulCase, seed: number, fd: 'auto' | 'none' = 'auto') {
  const { a, b } = shapesOf(c);
  const rng = new TestRng(seed);
  // Sums over k grow like sqrt(k); the slack follows.
  const atol = 2e-6 * Math.sqrt(c.k) + 1e-6;
  return checkOp({
    label: `matmul [${a}]${c.transA ? '^T' : ''} x [${b}]${c.transB ? '^T' : ''}`,
    inputs: [
      { shape: a, data: rng.uniform(shapeSize(a)) },
      { shape: b, data: rng.uniform(shapeSize(b)) },
    ],
    run: ([x, y]) => T.matmul(x, y, { transA: c.transA, transB: c.transB }),
    ref: ([x, y]) => matmulRef(x, y, c.transA, c.transB),
    forward: { rtol: 1e-5, atol },
    fd,
    seed,
  });
}

/** alpha * op(a) op(b) + bias (bias [N] on every row), forward and gradients of a, b and bias. */
function runEpilogueCase(c: MatmulCase, seed: number, alpha: number, withBias: boolean, fd: 'auto' | 'none' = 'auto') {
  const { a, b } = shapesOf(c);
  const rng = new TestRng(seed);
  const atol = (2e-6 * Math.sqrt(c.k) + 1e-6) * Math.max(1, Math.abs(alpha)) + (withBias ? 1e-6 : 0);
  const inputs = [
    { shape: a, data: rng.uniform(shapeSize(a)) },
    { shape: b, data: rng.uniform(shapeSize(b)) },
    ...(withBias ? [{ shape: [c.n], data: rng.uniform(c.n) }] : []),
  ];
  return checkOp({
    label: `matmul [${a}]${c.transA ? '^T' : ''} x [${b}]${c.transB ? '^T' : ''} alpha ${alpha}${withBias ? ' + bias' : ''}`,
    inputs,
    run: ([x, y, bias]) => T.matmul(x, y, { transA: c.transA, transB: c.transB, alpha, bias }),
    ref: ([x, y, bias]) => {
      const product = matmulRef(x, y, c.transA, c.transB);
      // alpha * sum_k a b + bias[n], in float64
      const data = Float64Array.from(product.data, (v, i) => alpha * v + (bias ? bias.data[i % c.n] : 0));
      return { shape: product.shape, data };
    },
    forward: { rtol: 1e-5, atol },
    fd,
    seed,
  });
}

const caseArb = fc.record({
  batch: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 }),
  m: oddDim,
  k: oddDim,
  n: oddDim,
  transA: fc.boolean(),
  transB: fc.boolean(),
  shared: fc.boolean(),
});

/** The matmul cases; run per backend and again on cpu with the WebAssembly GEMM installed. */
function matmulSuite(): void {
  it('2-D and batched products, all transA/transB combinations, forward and gradients', () => {
    fc.assert(
      fc.property(
        caseArb.filter((c) => !(c.shared && c.transA && c.batch.length > 0)),
        seedArb,
        (c, seed) => {
          runCase({ ...c, shared: c.shared || c.batch.length === 0 }, seed);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('transA with a 2-D b shared across the batch: forward', () => {
    fc.assert(
      fc.property(caseArb, seedArb, (c, seed) => {
        runCase({ ...c, batch: [2, ...c.batch].slice(0, 2), transA: true, shared: true }, seed, 'none');
      }),
      { numRuns: 20 },
    );
  });

  it('alpha and a bias [N] (the fused epilogue): forward and gradients of a, b and bias', () => {
    fc.assert(
      fc.property(
        caseArb.filter((c) => !(c.shared && c.transA && c.batch.length > 0)),
        fc.constantFrom(1, 0.125, -0.7),
        fc.boolean(),
        seedArb,
        (c, alpha, withBias, seed) => {
          runEpilogueCase({ ...c, shared: c.shared || c.batch.length === 0 }, seed, alpha, withBias);
        },
      ),
      { numRuns: 40 },
    );
    // a batched a against a shared weight with a bias: the Linear layout, flattened to 2-D
    runEpilogueCase({ batch: [2, 3], m: 5, k: 7, n: 4, transA: false, transB: true, shared: true }, 11, 1, true);
    runEpilogueCase({ batch: [2], m: 3, k: 4, n: 5, transA: true, transB: false, shared: true }, 12, 0.5, true);
    // K = 0: the product is empty, so the result is the bias rows
    runEpilogueCase({ batch: [], m: 3, k: 0, n: 4, transA: false, transB: false, shared: true }, 13, 2, true, 'none');
    // large enough for the threaded GEMM, with the epilogue after it
    runEpilogueCase({ batch: [2], m: 130, k: 129, n: 131, transA: false, transB: true, shared: true }, 14, 0.125, true, 'none');
    // alpha 1 with a bias: the cpu adds the bias rows with the SIMD kernel, on every thread from 32K elements
    runEpilogueCase({ batch: [2], m: 260, k: 33, n: 131, transA: false, transB: true, shared: true }, 15, 1, true, 'none');
  });

  it('a hand-computed product with alpha and bias; a bias of the wrong length throws', () => {
    const a = T.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = T.tensor([
      [1, 0, 2],
      [0, 1, -1],
    ]);
    expect(T.matmul(a, b, { alpha: 2, bias: T.tensor([10, 20, 30]) }).toArray()).toEqual([
      [12, 24, 30],
      [16, 28, 34],
    ]);
    expect(() => T.matmul(a, b, { bias: T.zeros([2]) })).toThrow(new Error('matmul: [2,2] x [2,3]: bias must be float32 [3], got float32 [2]'));
  });

  it('transA with a 2-D b shared across the batch: gradients of a and b', () => {
    runCase({ batch: [2], m: 3, k: 4, n: 5, transA: true, transB: false, shared: true }, 1);
    runCase({ batch: [2, 3], m: 1, k: 17, n: 2, transA: true, transB: true, shared: true }, 2);
  });

  it('larger shapes: 1000 rows, K = 1000, batched 1000 columns', () => {
    runCase({ batch: [], m: 1000, k: 3, n: 17, transA: false, transB: false, shared: true }, 3);
    runCase({ batch: [], m: 2, k: 1000, n: 3, transA: true, transB: true, shared: true }, 4);
    runCase({ batch: [3], m: 5, k: 17, n: 1000, transA: false, transB: true, shared: false }, 5);
    runCase({ batch: [2, 2], m: 17, k: 5, n: 1000, transA: false, transB: false, shared: true }, 6);
  });

  it('method form and a hand-computed product', () => {
    const a = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = T.tensor([
      [1, 0],
      [0, 1],
      [2, -1],
    ]);
    expect(a.matmul(b).toArray()).toEqual([
      [7, -1],
      [16, -1],
    ]);
    expect(T.matmul(b, a, { transA: true, transB: true }).toArray()).toEqual([
      [7, 16],
      [-1, -1],
    ]);
  });

  it('shape errors name the operands exactly', () => {
    const z = (...shape: number[]) => T.zeros(shape);
    expect(() => T.matmul(z(2, 3), z(4, 5))).toThrow(new Error('matmul: [2,3] x [4,5]: inner dimensions 3 and 4 differ'));
    expect(() => T.matmul(z(3, 2), z(4, 5), { transA: true })).toThrow(new Error('matmul: [3,2]^T x [4,5]: inner dimensions 3 and 4 differ'));
    expect(() => T.matmul(z(2, 3), z(5, 4), { transB: true })).toThrow(new Error('matmul: [2,3] x [5,4]^T: inner dimensions 3 and 4 differ'));
    expect(() => T.matmul(z(3), z(3, 2))).toThrow(new Error('matmul: [3] x [3,2]: both operands need at least 2 dims'));
    expect(() => T.matmul(z(2, 2, 3), z(3, 3, 4))).toThrow(
      new Error('matmul: [2,2,3] x [3,3,4]: batch dimensions [2] and [3] differ'),
    );
    expect(() => T.matmul(z(2, 3), z(2, 3, 4))).toThrow(/^matmul: \[2,3\] x \[2,3,4\]: batch dimensions \[\] and \[2\] differ/);
    expect(() => T.matmul(T.tensor(new Int32Array([1, 2, 3, 4]), [2, 2]), z(2, 2))).toThrow(/^matmul: expected float32 operands/);
  });

  it('products big enough for the multi-threaded GEMM path (>= 2M multiply-adds), batched and shared', () => {
    runCase({ batch: [], m: 130, k: 129, n: 131, transA: true, transB: false, shared: true }, 7, 'none');
    runCase({ batch: [3], m: 67, k: 129, n: 97, transA: false, transB: true, shared: false }, 8, 'none');
    runCase({ batch: [2, 2], m: 65, k: 127, n: 129, transA: true, transB: true, shared: true }, 9, 'none');
  });
}

await describeBackends('matmul', matmulSuite);

/**
 * The cpu MatMul kernel with the WebAssembly GEMM (src/backends/cpu/gemm) in place of the default,
 * when that module loads and is not already the default: the kernel's strides, shared-b
 * (strideB 0) and transposes must mean the same to it.
 */
const wasmGemm = await (async () => {
  try {
    const specifier = '../src/backends/cpu/gemm/index.js';
    const module = (await import(/* @vite-ignore */ specifier)) as { gemm?: T.Gemm; gemmReady?: () => Promise<number> };
    if (typeof module.gemm !== 'function') return { skip: 'src/backends/cpu/gemm exports no gemm()' };
    if (module.gemm === T.getCpuGemm()) return { skip: 'the WebAssembly GEMM is already the cpu default (covered above)' };
    return { gemm: module.gemm, ready: module.gemmReady };
  } catch (error) {
    return { skip: `src/backends/cpu/gemm cannot be imported (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
})();

if ('gemm' in wasmGemm && wasmGemm.gemm) {
  describe('matmul [cpu with the WebAssembly GEMM]', () => {
    const previous = T.getCpuGemm();
    beforeAll(async () => {
      await wasmGemm.ready?.();
      T.setBackend('cpu');
      T.setCpuGemm(wasmGemm.gemm!);
    });
    afterAll(() => {
      T.setCpuGemm(previous);
    });
    matmulSuite();
  });
} else {
  describe.skip(`matmul [cpu with the WebAssembly GEMM] (skipped: ${wasmGemm.skip})`, () => {
    it('unavailable', () => undefined);
  });
}
