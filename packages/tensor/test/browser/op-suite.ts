/**
 * The op suite for backends that read asynchronously (gpujs mode webgpu, run in headless Chromium
 * by scripts/browser-check): every kernel of the contract reached through its op, forward against
 * float64 references and backward against central finite differences (checkOpAsync), plus the
 * in-place kernels and the error paths. Small shapes: SwiftShader is a CPU emulating a GPU.
 * The Node suites (test/ops-*.test.ts) cover the synchronous backends with property tests.
 */
import * as T from '../../src/index.js';
import { checkOpAsync, expectClose, type OpCase } from '../helpers/check.js';
import { gelu64 } from '../helpers/erf.js';
import { lowbias32Reference } from '../helpers/lowbias32.js';
import {
  concatRef,
  crossEntropyRef,
  embeddingRef,
  layerNormRef,
  map1,
  map2,
  matmulRef,
  meanRef,
  nd,
  permuteRef,
  sliceRef,
  softmaxRef,
  sumRef,
  where3,
} from '../helpers/ref.js';
import { TestRng } from '../helpers/rng.js';

export interface SuiteResult {
  name: string;
  pass: boolean;
  error?: string;
  ms: number;
}

const rng = new TestRng(20261202);
const u = (shape: number[], lo = -1, hi = 1) => ({ shape, data: rng.uniform(shape.reduce((a, b) => a * b, 1), lo, hi) });
const away = (shape: number[], lo: number, hi: number) => ({ shape, data: rng.awayFromZero(shape.reduce((a, b) => a * b, 1), lo, hi) });

/** Op cases: each names the kernels it reaches. */
function opCases(): OpCase[] {
  const labels = Int32Array.of(3, -100, 0, 6, 2);
  const ids = Int32Array.of(4, 0, 2, 4, 1, 0);
  const maskData = new Float64Array(2 * 1 * 3 * 5);
  maskData.fill(0);
  // one fully masked row (finfo.min everywhere) and some masked entries
  for (let j = 0; j < 5; j++) maskData[5 + j] = -3.4028234663852886e38;
  maskData[12] = -3.4028234663852886e38;
  const partialMask = new Float64Array(maskData.length);
  for (const index of [3, 12, 17, 18, 29]) partialMask[index] = -3.4028234663852886e38;
  return [
    { label: 'add (broadcast [2,3,4] + [4]) [Add, Sum]', inputs: [u([2, 3, 4]), u([4])], run: ([a, b]) => T.add(a, b), ref: ([a, b]) => map2(a, b, (p, q) => p + q) },
    { label: 'sub (broadcast [3,1] - [1,4]) [Sub, Neg, Sum]', inputs: [u([3, 1]), u([1, 4])], run: ([a, b]) => T.sub(a, b), ref: ([a, b]) => map2(a, b, (p, q) => p - q) },
    { label: 'mul (broadcast [2,3,4] * [3,1]) [Mul]', inputs: [u([2, 3, 4]), u([3, 1])], run: ([a, b]) => T.mul(a, b), ref: ([a, b]) => map2(a, b, (p, q) => p * q) },
    { label: 'div [Div]', inputs: [u([2, 5]), away([5], 0.5, 2)], run: ([a, b]) => T.div(a, b), ref: ([a, b]) => map2(a, b, (p, q) => p / q) },
    { label: 'exp [Exp]', inputs: [u([3, 7])], run: ([x]) => T.exp(x), ref: ([x]) => map1(x, Math.exp) },
    { label: 'log [Log]', inputs: [u([3, 7], 0.2, 3)], run: ([x]) => T.log(x), ref: ([x]) => map1(x, Math.log) },
    { label: 'sqrt [Sqrt]', inputs: [u([3, 7], 0.2, 3)], run: ([x]) => T.sqrt(x), ref: ([x]) => map1(x, Math.sqrt) },
    { label: 'tanh, small and large |x| [Tanh]', inputs: [{ shape: [8], data: Float64Array.of(-50, -3, -0.5, -0.01, 0.003, 0.7, 2.5, 60) }], run: ([x]) => T.tanh(x), ref: ([x]) => map1(x, Math.tanh), fd: 'none' },
    { label: 'tanh gradient [Tanh]', inputs: [u([4, 5], -3, 3)], run: ([x]) => T.tanh(x), ref: ([x]) => map1(x, Math.tanh) },
    { label: 'gelu [Gelu, GeluGrad]', inputs: [u([4, 6], -5, 5)], run: ([x]) => T.gelu(x), ref: ([x]) => map1(x, gelu64) },
    { label: 'relu [Relu, ReluGrad]', inputs: [away([4, 6], 0.05, 2)], run: ([x]) => T.relu(x), ref: ([x]) => map1(x, (v) => Math.max(v, 0)) },
    { label: 'affine [Affine]', inputs: [u([2, 9])], run: ([x]) => T.affine(x, -1.5, 0.25), ref: ([x]) => map1(x, (v) => v * -1.5 + 0.25) },
    { label: 'sum over axes [0, 2] [Sum]', inputs: [u([3, 4, 5])], run: ([x]) => T.sum(x, [0, 2]), ref: ([x]) => sumRef(x, [0, 2], false) },
    { label: 'mean over the last axis, keepDims [Sum, Affine]', inputs: [u([3, 4, 5])], run: ([x]) => T.mean(x, -1, true), ref: ([x]) => meanRef(x, [2], true) },
    { label: 'matmul [5,7] x [7,3] with bias [MatMul, Sum]', inputs: [u([5, 7]), u([7, 3]), u([3])], run: ([a, b, c]) => T.matmul(a, b, { bias: c }), ref: ([a, b, c]) => map2(matmulRef(a, b), c, (p, q) => p + q) },
    { label: 'matmul batched, transA and transB, alpha [MatMul]', inputs: [u([2, 7, 5]), u([2, 3, 7])], run: ([a, b]) => T.matmul(a, b, { transA: true, transB: true, alpha: 0.5 }), ref: ([a, b]) => map1(matmulRef(a, b, true, true), (v) => v * 0.5) },
    { label: 'matmul [2,3,17] x shared [17,20] (tiles past 16) [MatMul]', inputs: [u([2, 3, 17]), u([17, 20])], run: ([a, b]) => T.matmul(a, b), ref: ([a, b]) => matmulRef(a, b) },
    { label: 'matmul transA with a shared 2-D b [MatMul, Transpose, Sum]', inputs: [u([2, 4, 3]), u([4, 5])], run: ([a, b]) => T.matmul(a, b, { transA: true }), ref: ([a, b]) => matmulRef(a, b, true) },
    { label: 'permute [Transpose]', inputs: [u([2, 3, 4])], run: ([x]) => T.permute(x, [2, 0, 1]), ref: ([x]) => permuteRef(x, [2, 0, 1]) },
    { label: 'concat on axis 1 [Concat, Slice]', inputs: [u([2, 3, 2]), u([2, 1, 2]), u([2, 2, 2])], run: (xs) => T.concat(xs, 1), ref: (xs) => concatRef(xs, 1) },
    { label: 'slice [Slice, SliceGrad]', inputs: [u([4, 5, 3])], run: ([x]) => T.slice(x, [1, 2, 0], [2, 3, 2]), ref: ([x]) => sliceRef(x, [1, 2, 0], [2, 3, 2]) },
    {
      label: 'embedding with paddingIdx 0 [Gather, ScatterAdd]',
      inputs: [u([5, 3]), { shape: [2, 3], data: ids, dtype: 'int32' }],
      run: ([w, i]) => T.embedding(w, i, { paddingIdx: 0 }),
      ref: ([w, i]) => embeddingRef(w, i),
      fd: 'none',
    },
    {
      // W is used thrice: two dense matmul gradients are summed, then the rows go in place
      label: 'a tied weight: embedding, then matmuls by the same weight [Gather, ScatterAddInPlace, MatMul, AddInPlace]',
      inputs: [u([5, 3]), { shape: [4], data: Int32Array.of(4, 1, 4, 2), dtype: 'int32' }],
      run: ([w, i]) => T.matmul(T.matmul(T.embedding(w, i), w, { transB: true }), w),
      ref: ([w, i]) => matmulRef(matmulRef(embeddingRef(w, i), w, false, true), w),
    },
    { label: 'layerNorm [LayerNorm, LayerNormGrad]', inputs: [u([3, 8], -2, 2), u([8], 0.5, 1.5), u([8])], run: ([x, g, b]) => T.layerNorm(x, g, b, 1e-5), ref: ([x, g, b]) => layerNormRef(x, g, b, 1e-5), gradRel: 1e-3 },
    { label: 'softmax [Softmax, SoftmaxGrad]', inputs: [u([3, 6], -3, 3)], run: ([x]) => T.softmax(x), ref: ([x]) => softmaxRef(x) },
    {
      label: 'softmax with a broadcast additive mask [Softmax, SoftmaxGrad]',
      inputs: [u([2, 2, 3, 5], -3, 3), { shape: [2, 1, 3, 5], data: partialMask, grad: false }],
      run: ([x, m]) => T.softmax(x, m),
      ref: ([x, m]) => softmaxRef(x, m),
    },
    {
      // forward only: x cannot move a row the mask absorbs, so finite differences see 0 there
      label: 'softmax of a fully masked row comes out uniform, never NaN [Softmax]',
      inputs: [u([2, 2, 3, 5], -3, 3), { shape: [2, 1, 3, 5], data: maskData, grad: false }],
      run: ([x, m]) => T.softmax(x, m),
      ref: ([x, m]) => softmaxRef(x, m),
      fd: 'none',
    },
    {
      label: 'crossEntropy with an ignored row [CrossEntropy, CrossEntropyGrad]',
      inputs: [u([5, 7], -2, 2), { shape: [5], data: labels, dtype: 'int32' }],
      run: ([x, l]) => T.crossEntropy(x, l),
      ref: ([x]) => crossEntropyRef(x, labels),
    },
    {
      label: 'where / maskedFill [Where]',
      inputs: [{ shape: [3, 1], data: Float64Array.of(1, 0, 1), grad: false }, u([3, 4]), u([4])],
      run: ([c, a, b]) => T.where(c, a, b),
      ref: ([c, a, b]) => where3(c, a, b),
    },
    { label: 'cast float32 -> int32 -> float32 truncates toward zero [Cast]', inputs: [{ shape: [6], data: Float64Array.of(-2.75, -0.5, 0, 0.5, 1.99, 7) }], run: ([x]) => T.cast(T.cast(x, 'int32'), 'float32'), ref: ([x]) => map1(x, Math.trunc), fd: 'none' },
    { label: 'x used three times (gradient accumulation) [AddInPlace]', inputs: [u([4, 3])], run: ([x]) => T.add(T.mul(x, x), T.exp(x)), ref: ([x]) => map1(x, (v) => v * v + Math.exp(v)) },
  ];
}

async function timed(name: string, fn: () => Promise<void>): Promise<SuiteResult> {
  const start = performance.now();
  try {
    await fn();
    return { name, pass: true, ms: performance.now() - start };
  } catch (error) {
    return { name, pass: false, error: error instanceof Error ? error.message : String(error), ms: performance.now() - start };
  }
}

async function expectRejects(promise: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!pattern.test(message)) throw new Error(`${what}: rejected with '${message}', expected ${pattern}`);
    return;
  }
  throw new Error(`${what}: resolved, expected a rejection matching ${pattern}`);
}

function expectThrows(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!pattern.test(message)) throw new Error(`${what}: threw '${message}', expected ${pattern}`);
    return;
  }
  throw new Error(`${what}: did not throw (expected ${pattern})`);
}

/** Runs every case on the active backend; `log` reports progress. */
export async function runOpSuite(log: (line: string) => void): Promise<SuiteResult[]> {
  const results: SuiteResult[] = [];
  for (const c of opCases()) {
    const result = await timed(c.label ?? 'op', async () => {
      await checkOpAsync(c);
    });
    log(`${result.pass ? 'ok  ' : 'FAIL'} ${result.name}${result.error ? `: ${result.error}` : ''}`);
    results.push(result);
  }
  const extra: Array<[string, () => Promise<void>]> = [
    [
      'dropout keeps the contract mask (lowbias32 reference) and scales by fround(1/(1-p)) [Dropout]',
      async () => {
        const n = 257;
        const x = T.ones([n]);
        const p = 0.3;
        const generator = new T.Generator(7);
        const seed = new T.Generator(7).nextUint32();
        const y = await T.dropout(x, p, { generator }).data();
        const threshold = BigInt(Math.floor(p * 4294967296));
        const want = Array.from({ length: n }, (_, i) => (lowbias32Reference(lowbias32Reference(BigInt(i)) ^ BigInt(seed)) < threshold ? 0 : Math.fround(1 / (1 - p))));
        expectClose(y, want, { rtol: 0, atol: 0 }, 'dropout mask');
      },
    ],
    [
      'AdamW updates p, m, v in place as torch.optim.AdamW (float64 reference) [AdamW]',
      async () => {
        const n = 11;
        const p0 = rng.uniform(n);
        const g0 = rng.uniform(n);
        const p = T.tensor(Float32Array.from(p0));
        const g = T.tensor(Float32Array.from(g0));
        const m = T.zeros([n]);
        const v = T.zeros([n]);
        const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
        // step 2 with clipping folded in: the update of gradScale * g
        const gradScaleAt = (step: number) => (step === 2 ? 0.0371 : 1);
        for (let step = 1; step <= 2; step++) T.runKernel('AdamW', [p.info, g.info, m.info, v.info], { ...h, step, gradScale: gradScaleAt(step) });
        const [pv, mv, vv] = await T.readTensors([p, m, v]);
        const want = { p: [...p0], m: new Array(n).fill(0), v: new Array(n).fill(0) };
        for (let step = 1; step <= 2; step++) {
          for (let i = 0; i < n; i++) {
            const gi = g0[i] * gradScaleAt(step);
            want.p[i] *= 1 - h.lr * h.weightDecay;
            want.m[i] = h.beta1 * want.m[i] + (1 - h.beta1) * gi;
            want.v[i] = h.beta2 * want.v[i] + (1 - h.beta2) * gi * gi;
            const mHat = want.m[i] / (1 - h.beta1 ** step);
            const vHat = want.v[i] / (1 - h.beta2 ** step);
            want.p[i] -= (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
          }
        }
        expectClose(pv, want.p, { rtol: 1e-5, atol: 1e-6 }, 'p');
        expectClose(mv, want.m, { rtol: 1e-5, atol: 1e-7 }, 'm');
        expectClose(vv, want.v, { rtol: 1e-5, atol: 1e-9 }, 'v');
      },
    ],
    [
      'a synchronous read of a device value fails, naming the asynchronous call',
      async () => {
        const y = T.exp(T.tensor([1, 2]));
        expectThrows(() => T.sum(y).item(), /await tensor\.data\(\)/, 'item() on a computed value');
        expectThrows(() => y.toFloat32Array(), /await tensor\.itemAsync\(\)/, 'toFloat32Array() on a computed value');
        // values that came from the host keep their host copy
        expectClose(T.tensor([3, 4]).toFloat32Array(), [3, 4], {}, 'host-born tensor');
        expectClose([await T.sum(y).itemAsync()], [Math.exp(1) + Math.exp(2)], { rtol: 1e-6 }, 'itemAsync');
      },
    ],
    [
      'an out-of-range id computed on the device is reported at the next read [Gather]',
      async () => {
        const weight = T.tensor([[1, 2], [3, 4]]);
        const computedIds = T.cast(T.tensor([0.5, 7.2]), 'int32');
        const rows = T.embedding(weight, computedIds);
        await expectRejects(rows.data(), /Gather: an id fell outside \[0, V\)/, 'bad id');
        // reported once: the next read is clean
        expectClose(await T.tensor([1]).add(1).data(), [2], {}, 'after the report');
      },
    ],
  ];
  for (const [name, fn] of extra) {
    const result = await timed(name, fn);
    log(`${result.pass ? 'ok  ' : 'FAIL'} ${result.name}${result.error ? `: ${result.error}` : ''}`);
    results.push(result);
  }
  return results;
}

export { nd };
