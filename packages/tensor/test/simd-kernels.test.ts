/**
 * The cpu backend's WebAssembly SIMD kernels (Gelu, GeluGrad, Softmax with a broadcast additive
 * mask, SoftmaxGrad, LayerNorm, LayerNormGrad, CrossEntropy, CrossEntropyGrad, AdamW) against
 * float64 references written here, on both paths ('wasm-simd' and the plain-JS 'js'), plus a
 * direct SIMD-vs-JS comparison.
 *
 * Tolerance: |got - ref| <= 1e-5 * scale (+ 1e-37 for results in float32's denormal range), where
 * scale is |ref| for gelu, softmax, lse and rstd, and for outputs that are a sum of terms that
 * can cancel, the sum of the terms' magnitudes (the documented exceptions to plain relative error):
 *   GeluGrad  |dy| (|Phi(x)| + |x phi(x)|)        the two terms cancel near x = -0.7518
 *   LayerNorm |xhat gamma| + |beta|; mean: mean |x|; dx: rstd (|dxhat| + |mean dxhat| + |xhat mean(dxhat xhat)|)
 *   dgamma / dbeta: sum |dy xhat| / sum |dy|;  SoftmaxGrad: |y| (|dy| + sum |dy y|)
 *   CrossEntropy loss: mean(|lse| + |logit[label]|); CrossEntropyGrad: |p f| + |f| at the label
 *   AdamW p: |p decay| + |update|;  m, v: the magnitudes of their two terms
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KERNELS, runKernel, setBackend, type KernelName, type TensorInfo } from '../src/index.js';
import { cpuKernelInfo, setCpuKernelPath, type CpuKernelPath } from '../src/backends/cpu/simd/index.js';
import { erfc64 } from './helpers/erf.js';
import { TestRng } from './helpers/rng.js';
import { lowbias32Reference } from './helpers/lowbias32.js';

const FINFO_MIN = -3.4028234663852886e38;
const RTOL = 1e-5;
/** The arena chunk (elements per operand) in src/backends/cpu/simd/kernels.ts; sizes cross it. */
const CHUNK = 1 << 14;
const PATHS: CpuKernelPath[] = ['wasm-simd', 'js'];

type Host = Float32Array | Int32Array;

const info = (data: Host, shape: readonly number[]): TensorInfo => ({
  storage: data,
  shape: [...shape],
  dtype: data instanceof Int32Array ? 'int32' : 'float32',
  backend: 'cpu',
});

/** Runs a kernel with `path` forced; outputs as host arrays. */
function run(path: CpuKernelPath, name: KernelName, inputs: TensorInfo[], attrs = {}): Float32Array[] {
  setCpuKernelPath(path);
  try {
    return runKernel(name, inputs, attrs).map((o) => o.storage as Float32Array);
  } finally {
    setCpuKernelPath('auto');
  }
}

const f32 = (xs: ArrayLike<number>): Float32Array => Float32Array.from(xs as ArrayLike<number>);

/**
 * |got - ref| <= rtol * scale + atol elementwise; NaN/inf must match exactly. scale defaults to
 * |ref|. Names the first offending index.
 */
function expectWithin(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  what: string,
  scale?: ArrayLike<number>,
  { rtol = RTOL, atol = 1e-37 } = {},
): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const a = got[i];
    const e = ref[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)) || (a === e))) {
        throw new Error(`${what}: at ${i} got ${a}, expected ${e}`);
      }
      continue;
    }
    const s = scale ? scale[i] : Math.abs(e);
    if (!(Math.abs(a - e) <= rtol * s + atol)) {
      throw new Error(`${what}: at ${i} got ${a}, expected ${e} (|err| ${Math.abs(a - e).toExponential(2)}, allowed ${(rtol * s + atol).toExponential(2)})`);
    }
  }
}

/** Checks both paths against the reference and against each other. */
function bothPaths(
  what: string,
  compute: (path: CpuKernelPath) => ArrayLike<number>[],
  refs: ArrayLike<number>[],
  scales: (ArrayLike<number> | undefined)[] = [],
): void {
  const outs = PATHS.map((p) => compute(p));
  PATHS.forEach((p, k) => refs.forEach((ref, j) => expectWithin(outs[k][j], ref, `${what} [${p}] output ${j}`, scales[j])));
  refs.forEach((ref, j) => {
    const scale = scales[j] ?? Array.from(ref, Math.abs);
    expectWithin(outs[0][j], outs[1][j], `${what} simd vs js output ${j}`, scale, { rtol: 2 * RTOL, atol: 2e-37 });
  });
}

// ---- float64 references ------------------------------------------------------------------------

const Phi = (x: number): number => 0.5 * erfc64(-x / Math.SQRT2);
const density = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

beforeAll(() => {
  setBackend('cpu');
});
afterEach(() => {
  setCpuKernelPath('auto');
});

describe('cpu kernel path', () => {
  it('runs wasm SIMD by default on Node (which validates v128) and reports it', () => {
    const infoNow = cpuKernelInfo();
    expect(infoNow.simdAvailable).toBe(true);
    expect(infoNow.path).toBe(process.env.RETRO_CPU_SIMD === '0' ? 'js' : 'wasm-simd');
  });

  it('can be forced to js and back, and rejects unknown paths', () => {
    setCpuKernelPath('js');
    expect(cpuKernelInfo()).toMatchObject({ path: 'js', simdAvailable: true });
    setCpuKernelPath('wasm-simd');
    expect(cpuKernelInfo().path).toBe('wasm-simd');
    expect(() => setCpuKernelPath('gpu' as CpuKernelPath)).toThrow(/setCpuKernelPath: path must be/);
  });

  it('ships wasm-bytes.ts matching what scripts/build-simd-kernels.mjs assembles', () => {
    const script = fileURLToPath(new URL('../scripts/build-simd-kernels.mjs', import.meta.url));
    expect(execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' })).toMatch(/up to date/);
  });
});

describe('Dropout', () => {
  const lowbias32 = lowbias32Reference;
  const specials = [0, -0, -1.5, 2.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.4e38, -1e-40];
  const cases: [string, Float32Array][] = [
    ['n=1', f32([-0.3])],
    ['n=7 specials', f32(specials)],
    ['n=2*CHUNK+3', f32(new TestRng(5).uniform(2 * CHUNK + 3, -3, 3))],
  ];
  for (const [label, x] of cases) {
    for (const [p, seed] of [
      [0.1, 0],
      [0.5, 0xdeadbeef],
      [0.93, 12345],
    ] as const) {
      it(`${label}, p ${p}: both paths give x * mask with the hashed mask, bit for bit`, () => {
        const threshold = BigInt(Math.floor(p * 2 ** 32));
        const kept = Math.fround(1 / (1 - p));
        const ref = Array.from(x, (v, i) => Math.fround(v * (lowbias32(lowbias32(BigInt(i)) ^ BigInt(seed)) < threshold ? 0 : kept)));
        for (const path of PATHS) {
          const [out] = run(path, KERNELS.Dropout, [info(x, [x.length])], { p, seed });
          // toEqual tells -0 from 0 and matches NaN with NaN
          expect(Array.from(out), `${label} [${path}]`).toEqual(ref);
        }
      });
    }
  }
});

describe('Add (same shapes, bias rows)', () => {
  const specials = [0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.4e38, 1e-45];
  // [shape a, shape b]: same shapes across chunks, rows of odd widths, the row on either side
  const cases: [number[], number[]][] = [
    [[7], [7]],
    [[2 * CHUNK + 3], [2 * CHUNK + 3]],
    [[3, 1, 5], [3, 1, 5]],
    [[37, 3], [3]],
    [[2, 5000, 7], [7]],
    [[1, 1, 13], [400, 13]],
    [[9, 9], [1, 9]],
  ];
  for (const [sa, sb] of cases) {
    it(`[${sa}] + [${sb}]: both paths give the float32 sums exactly`, () => {
      const rng = new TestRng(sa.length * 31 + sb[0]);
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      const fill = (n: number) => f32(Array.from({ length: n }, (_, i) => (i < specials.length && rng.next() < 0.5 ? specials[i] : rng.uniform(1, -10, 10)[0])));
      const a = fill(size(sa));
      const b = fill(size(sb));
      const out = sa.length >= sb.length ? sa.map((d, i) => Math.max(d, sb[i - (sa.length - sb.length)] ?? 1)) : sb.map((d, i) => Math.max(d, sa[i - (sb.length - sa.length)] ?? 1));
      const cols = out[out.length - 1];
      const ref = Array.from({ length: size(out) }, (_, i) => {
        // a and b read at i (full size) or at i mod cols (a row), as the cases are built
        const av = a.length === size(out) ? a[i] : a[i % cols];
        const bv = b.length === size(out) ? b[i] : b[i % cols];
        return Math.fround(av + bv);
      });
      for (const path of PATHS) {
        const [y] = run(path, KERNELS.Add, [info(a, sa), info(b, sb)]);
        expect(Array.from(y), `[${path}]`).toEqual(ref);
        if (a.length === b.length) {
          // AddInPlace (gradient sums): the same sums, written over its first operand
          const acc = a.slice();
          expect(run(path, KERNELS.AddInPlace, [info(acc, sa), info(b, sb)]), `[${path}] AddInPlace returns nothing`).toEqual([]);
          expect(Array.from(acc), `[${path}] AddInPlace`).toEqual(ref);
        }
      }
    });
  }
});

describe('Gelu / GeluGrad', () => {
  const specials = [0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 0.75179, -0.75179, -0.7518, 5, 6, -8, -10, -12, -13, 20, -20, 1e30, -1e30, 3.4e38, -3.4e38];
  const cases: [string, Float32Array][] = [
    ['n=1', f32([-0.3])],
    ['n=3', f32([-2, 0.5, 3])],
    ['n=17', f32(new TestRng(1).uniform(17, -4, 4))],
    ['n=1000 in [-14, 14]', f32(new TestRng(2).uniform(1000, -14, 14))],
    [`n=2*CHUNK+3 in [-6, 6]`, f32(new TestRng(3).uniform(2 * CHUNK + 3, -6, 6))],
    ['extremes', f32(specials)],
  ];

  for (const [label, x] of cases) {
    it(`gelu ${label}: x Phi(x) within 1e-5 relative`, () => {
      const ref = Array.from(x, (v) => v * Phi(v));
      bothPaths(`gelu ${label}`, (p) => run(p, KERNELS.Gelu, [info(x, [x.length])]), [ref]);
    });

    it(`geluGrad ${label}: dy (Phi + x phi) within 1e-5 of the terms`, () => {
      const dy = f32(new TestRng(x.length).uniform(x.length, -2, 2));
      const ref = Array.from(x, (v, i) => dy[i] * (Phi(v) + v * density(v)));
      const scale = Array.from(x, (v, i) => Math.abs(dy[i]) * (Math.abs(Phi(v)) + Math.abs(v * density(v))));
      bothPaths(`geluGrad ${label}`, (p) => run(p, KERNELS.GeluGrad, [info(x, [x.length]), info(dy, [x.length])]), [ref], [scale]);
    });
  }

  it('keeps the plain-JS answers at infinities and NaN (gelu(-inf) = 0 * -inf = NaN)', () => {
    const x = f32([Infinity, -Infinity, NaN, 1]);
    const [simd] = run('wasm-simd', KERNELS.Gelu, [info(x, [4])]);
    const [js] = run('js', KERNELS.Gelu, [info(x, [4])]);
    expect(Array.from(simd)).toEqual(Array.from(js));
    expect(simd[0]).toBe(Infinity);
    expect(simd[1]).toBeNaN();
    expect(simd[2]).toBeNaN();
  });

  it('gelu stays relatively accurate deep in the negative tail, where float32 rounding of x^2 alone costs ~5e-6', () => {
    const x = f32(Array.from({ length: 400 }, (_, i) => -5 - (8 * i) / 400));
    const [got] = run('wasm-simd', KERNELS.Gelu, [info(x, [x.length])]);
    expectWithin(got, Array.from(x, (v) => v * Phi(v)), 'gelu tail', undefined, { rtol: 2e-6, atol: 1e-37 });
  });
});

// ---- softmax -----------------------------------------------------------------------------------

/** Strides of `shape` broadcast to `out` (0 on stretched or missing axes). */
function bstrides(shape: readonly number[], out: readonly number[]): number[] {
  const own: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    own[d] = s;
    s *= shape[d];
  }
  const lead = out.length - shape.length;
  return out.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : own[d - lead]));
}

/** float64 softmax of float32(x + mask) over the last axis. */
function softmaxRef(x: Float32Array, shape: number[], mask?: Float32Array, maskShape?: number[]): Float64Array {
  const cols = shape[shape.length - 1];
  const scores = new Float64Array(x.length);
  const ms = mask && maskShape ? bstrides(maskShape, shape) : [];
  for (let i = 0; i < x.length; i++) {
    let off = 0;
    let rem = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      off += (rem % shape[d]) * (ms[d] ?? 0);
      rem = Math.floor(rem / shape[d]);
    }
    scores[i] = mask ? Math.fround(x[i] + mask[off]) : x[i];
  }
  const out = new Float64Array(x.length);
  for (let b = 0; b < x.length; b += cols) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, scores[b + c]);
    let total = 0;
    for (let c = 0; c < cols; c++) total += Math.exp(scores[b + c] - max);
    for (let c = 0; c < cols; c++) out[b + c] = Math.exp(scores[b + c] - max) / total;
  }
  return out;
}

describe('Softmax / SoftmaxGrad', () => {
  const plain: [number[], number][] = [
    [[1, 1], 1],
    [[3, 3], 3],
    [[5, 17], 5],
    [[7, 1000], 20],
    [[2001, 17], 10],
    [[17], 30],
    [[3, 5, 1000], 40],
  ];
  for (const [shape, spread] of plain) {
    it(`softmax ${JSON.stringify(shape)} (logits in ±${spread}) without a mask`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = f32(new TestRng(n + spread).uniform(n, -spread, spread));
      bothPaths(`softmax ${shape}`, (p) => run(p, KERNELS.Softmax, [info(x, shape)]), [softmaxRef(x, shape)]);
    });
  }

  /** x [B, H, Lq, Lk]; batch 1 fully masked (its rows come out uniform), others masked at the end. */
  function maskCase(maskShape: number[], B: number, H: number, Lq: number, Lk: number, seed: number): void {
    const shape = [B, H, Lq, Lk];
    const rng = new TestRng(seed);
    const x = f32(rng.uniform(B * H * Lq * Lk, -8, 8));
    const mask = new Float32Array(maskShape.reduce((a, b) => a * b, 1));
    const mStr = bstrides(maskShape, maskShape);
    for (let i = 0; i < mask.length; i++) {
      const b = Math.floor(i / mStr[0]) % maskShape[0];
      const k = maskShape[3] === 1 ? Math.floor(i / mStr[2]) % maskShape[2] : i % maskShape[3];
      const keep = maskShape[3] === 1 ? rng.next() < 0.6 : k < Lk - 2 * b;
      mask[i] = b === 1 || !keep ? FINFO_MIN : rng.next() < 0.5 ? 0 : -1.5;
    }
    const ref = softmaxRef(x, shape, mask, maskShape);
    bothPaths(`softmax mask ${maskShape}`, (p) => run(p, KERNELS.Softmax, [info(x, shape), info(mask, maskShape)]), [ref]);
    const [got] = run('wasm-simd', KERNELS.Softmax, [info(x, shape), info(mask, maskShape)]);
    if (maskShape[3] !== 1) {
      // Batch 1 is fully masked: x + finfo.min saturates to finfo.min, so the row is exactly uniform.
      const start = H * Lq * Lk;
      for (let i = start; i < 2 * start; i++) expect(got[i]).toBeCloseTo(1 / Lk, 7);
    }
  }

  it('mask [B,1,1,Lk] over [B,H,Lq,Lk] (padding mask), odd Lk', () => maskCase([3, 1, 1, 17], 3, 2, 5, 17, 11));
  it('mask [B,1,Lq,Lk] (per query row), Lk 3 and 1000', () => {
    maskCase([3, 1, 3, 3], 3, 4, 3, 3, 12);
    maskCase([2, 1, 3, 1000], 2, 3, 3, 1000, 13);
  });
  it('mask [B,1,Lq,1] (one value per row) and a rank-1 mask [Lk]', () => {
    maskCase([3, 1, 5, 1], 3, 2, 5, 7, 14);
    const x = f32(new TestRng(15).uniform(2 * 3 * 17, -5, 5));
    const mask = f32(Array.from({ length: 17 }, (_, i) => (i % 5 === 0 ? FINFO_MIN : 0)));
    bothPaths('softmax mask [17]', (p) => run(p, KERNELS.Softmax, [info(x, [2, 3, 17]), info(mask, [17])]), [softmaxRef(x, [2, 3, 17], mask, [17])]);
  });
  it('training shape [16,4,128,128] with mask [16,1,1,128]', () => maskCase([16, 1, 1, 128], 16, 4, 128, 128, 16));
  it('rows whose entries are all -3.4e38, given or saturated from x + mask, come out uniform', () => {
    // Row 0 holds -3.4e38 itself (no mask); row 1 is ordinary x under an all -3.4e38 mask row.
    const x = f32([FINFO_MIN, FINFO_MIN, FINFO_MIN, 0, 1, 2]);
    const mask = f32([0, 0, 0, FINFO_MIN, FINFO_MIN, FINFO_MIN]);
    for (const p of PATHS) {
      for (const inputs of [[info(x, [2, 3])], [info(x, [2, 3]), info(mask, [2, 3])]]) {
        const [got] = run(p, KERNELS.Softmax, inputs);
        const rows = inputs.length === 1 ? [0] : [0, 1];
        for (const r of rows) for (let c = 0; c < 3; c++) expect(got[3 * r + c]).toBeCloseTo(1 / 3, 7);
      }
    }
  });

  for (const [shape] of plain) {
    it(`softmaxGrad ${JSON.stringify(shape)}: y (dy - sum dy y)`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const cols = shape[shape.length - 1];
      const rng = new TestRng(n + 99);
      const y = f32(softmaxRef(f32(rng.uniform(n, -3, 3)), shape));
      const dy = f32(rng.uniform(n, -1, 1));
      const ref = new Float64Array(n);
      const scale = new Float64Array(n);
      for (let b = 0; b < n; b += cols) {
        let dot = 0;
        let dotAbs = 0;
        for (let c = 0; c < cols; c++) {
          dot += dy[b + c] * y[b + c];
          dotAbs += Math.abs(dy[b + c] * y[b + c]);
        }
        for (let c = 0; c < cols; c++) {
          ref[b + c] = y[b + c] * (dy[b + c] - dot);
          scale[b + c] = Math.abs(y[b + c]) * (Math.abs(dy[b + c]) + dotAbs);
        }
      }
      bothPaths(`softmaxGrad ${shape}`, (p) => run(p, KERNELS.SoftmaxGrad, [info(y, shape), info(dy, shape)]), [ref], [scale]);
    });
  }
});

// ---- layer norm --------------------------------------------------------------------------------

describe('LayerNorm / LayerNormGrad', () => {
  const cases: [number, number, number, number][] = [
    // rows, hidden, offset of x (|mean| >> std when large), eps
    [1, 1, 0, 1e-12],
    [3, 1, 0, 1e-5],
    [5, 3, 0, 1e-12],
    [7, 17, 0.5, 1e-12],
    [3, 1000, 0, 1e-5],
    [1001, 17, 0, 1e-12],
    [6, 256, 1000, 1e-12],
    [2050, 256, -3, 1e-12],
  ];
  for (const [rows, hidden, offset, eps] of cases) {
    const label = `[${rows},${hidden}] offset ${offset} eps ${eps}`;
    const rng = new TestRng(rows * 7 + hidden);
    const spread = offset >= 100 ? 0.01 : 2;
    const x = f32(rng.uniform(rows * hidden, offset - spread, offset + spread));
    const gamma = f32(rng.uniform(hidden, -1.5, 1.5));
    const beta = f32(rng.uniform(hidden, -1, 1));
    const mean = new Float64Array(rows);
    const rstd = new Float64Array(rows);
    const meanAbs = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let h = 0; h < hidden; h++) {
        s += x[r * hidden + h];
        meanAbs[r] += Math.abs(x[r * hidden + h]) / hidden;
      }
      mean[r] = s / hidden;
      let q = 0;
      for (let h = 0; h < hidden; h++) q += (x[r * hidden + h] - mean[r]) ** 2;
      rstd[r] = 1 / Math.sqrt(q / hidden + eps);
    }

    it(`layerNorm ${label}: y, mean, rstd`, () => {
      const y = new Float64Array(rows * hidden);
      const yScale = new Float64Array(rows * hidden);
      for (let i = 0; i < y.length; i++) {
        const r = Math.floor(i / hidden);
        const h = i % hidden;
        const xhat = (x[i] - mean[r]) * rstd[r];
        y[i] = xhat * gamma[h] + beta[h];
        yScale[i] = Math.abs(xhat * gamma[h]) + Math.abs(beta[h]);
      }
      bothPaths(
        `layerNorm ${label}`,
        (p) => run(p, KERNELS.LayerNorm, [info(x, [rows, hidden]), info(gamma, [hidden]), info(beta, [hidden])], { eps }),
        [y, mean, rstd],
        [yScale, meanAbs, undefined],
      );
    });

    it(`layerNormGrad ${label}: dx, dgamma, dbeta (rows summed in float64)`, () => {
      const dy = f32(new TestRng(rows + hidden + 5).uniform(rows * hidden, -1, 1));
      const m32 = f32(mean);
      const r32 = f32(rstd);
      const dx = new Float64Array(rows * hidden);
      const dxScale = new Float64Array(rows * hidden);
      const dGamma = new Float64Array(hidden);
      const dBeta = new Float64Array(hidden);
      const gScale = new Float64Array(hidden);
      const bScale = new Float64Array(hidden);
      for (let r = 0; r < rows; r++) {
        const xhat = (h: number): number => (x[r * hidden + h] - m32[r]) * r32[r];
        let a = 0;
        let b = 0;
        let aAbs = 0;
        let bAbs = 0;
        for (let h = 0; h < hidden; h++) {
          const d = dy[r * hidden + h];
          a += d * gamma[h];
          b += d * gamma[h] * xhat(h);
          aAbs += Math.abs(d * gamma[h]);
          bAbs += Math.abs(d * gamma[h] * xhat(h));
          dGamma[h] += d * xhat(h);
          dBeta[h] += d;
          gScale[h] += Math.abs(d * xhat(h));
          bScale[h] += Math.abs(d);
        }
        for (let h = 0; h < hidden; h++) {
          const d = dy[r * hidden + h];
          dx[r * hidden + h] = r32[r] * (d * gamma[h] - a / hidden - xhat(h) * (b / hidden));
          dxScale[r * hidden + h] = r32[r] * (Math.abs(d * gamma[h]) + aAbs / hidden + Math.abs(xhat(h)) * (bAbs / hidden));
        }
      }
      const inputs = [info(dy, [rows, hidden]), info(x, [rows, hidden]), info(gamma, [hidden]), info(m32, [rows]), info(r32, [rows])];
      bothPaths(`layerNormGrad ${label}`, (p) => run(p, KERNELS.LayerNormGrad, inputs), [dx, dGamma, dBeta], [dxScale, gScale, bScale]);
    });
  }
});

// ---- cross entropy -----------------------------------------------------------------------------

describe('CrossEntropy / CrossEntropyGrad', () => {
  /** rows, classes, logit spread, ignoreIndex, which rows are ignored */
  const cases: [number, number, number, number, (r: number) => boolean][] = [
    [1, 1, 3, -100, () => false],
    [3, 3, 3, -100, (r) => r === 1],
    [7, 17, 10, -100, (r) => r % 3 === 0],
    [5, 1000, 20, 2, (r) => r === 4],
    [9, 8000, 8, -100, (r) => r === 0 || r === 5],
    [3, 17, 1e4, -100, () => false],
    [4, 5, 3, -100, () => true],
  ];
  for (const [rows, classes, spread, ignoreIndex, ignored] of cases) {
    const label = `[${rows},${classes}] logits ±${spread} ignoreIndex ${ignoreIndex}`;
    it(`crossEntropy ${label}: loss, logSumExp, dlogits`, () => {
      const rng = new TestRng(rows * 31 + classes);
      const logits = f32(rng.uniform(rows * classes, -spread, spread));
      const labels = Int32Array.from({ length: rows }, (_, r) => (ignored(r) ? ignoreIndex : (r * 7 + 1) % classes));
      // ignoreIndex 2 is also a valid class: rows labelled 2 must be skipped, not scored.
      const counted = Array.from(labels).filter((l) => l !== ignoreIndex).length;
      const lse = new Float64Array(rows);
      const lseScale = new Float64Array(rows);
      let loss = 0;
      let lossScale = 0;
      for (let r = 0; r < rows; r++) {
        if (labels[r] === ignoreIndex) continue;
        let max = -Infinity;
        for (let c = 0; c < classes; c++) max = Math.max(max, logits[r * classes + c]);
        let s = 0;
        for (let c = 0; c < classes; c++) s += Math.exp(logits[r * classes + c] - max);
        lse[r] = max + Math.log(s);
        lseScale[r] = Math.abs(max) + Math.abs(Math.log(s));
        loss += lse[r] - logits[r * classes + labels[r]];
        lossScale += Math.abs(lse[r]) + Math.abs(logits[r * classes + labels[r]]);
      }
      loss = counted === 0 ? 0 : loss / counted;
      lossScale = counted === 0 ? 0 : lossScale / counted;
      const inputs = [info(logits, [rows, classes]), info(labels, [rows])];
      bothPaths(`crossEntropy ${label}`, (p) => run(p, KERNELS.CrossEntropy, inputs, { ignoreIndex }), [[loss], lse], [[lossScale], lseScale]);

      const dLoss = 0.75;
      const f = counted === 0 ? 0 : dLoss / counted;
      const grad = new Float64Array(rows * classes);
      const gScale = new Float64Array(rows * classes);
      for (let r = 0; r < rows; r++) {
        if (labels[r] === ignoreIndex) continue;
        for (let c = 0; c < classes; c++) {
          const p = Math.exp(logits[r * classes + c] - lse[r]);
          grad[r * classes + c] = (p - (c === labels[r] ? 1 : 0)) * f;
          gScale[r * classes + c] = Math.abs(p * f) + (c === labels[r] ? Math.abs(f) : 0);
        }
      }
      const lse32 = f32(lse);
      const gradInputs = [...inputs, info(lse32, [rows]), info(f32([dLoss]), [])];
      bothPaths(`crossEntropyGrad ${label}`, (p) => run(p, KERNELS.CrossEntropyGrad, gradInputs, { ignoreIndex }), [grad], [gScale]);
    });
  }

  it('rejects an out-of-range label with the same message on both paths', () => {
    const logits = f32([0, 1, 2, 3, 4, 5]);
    const labels = Int32Array.from([1, 3]);
    const messages = PATHS.map((p) => {
      try {
        run(p, KERNELS.CrossEntropy, [info(logits, [2, 3]), info(labels, [2])], { ignoreIndex: -100 });
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(messages[0]).toMatch(/CrossEntropy: label 3 at row 1 is outside \[0, 3\)/);
    expect(messages[1]).toBe(messages[0]);
  });
});

// ---- AdamW -------------------------------------------------------------------------------------

describe('AdamW', () => {
  const sizes = [1, 3, 17, 1000, 2 * CHUNK + 3];
  const hypers = [
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 },
    { lr: 5e-4, beta1: 0.8, beta2: 0.98, eps: 1e-6, weightDecay: 0, step: 7 },
    // clipping folded in: the update of gradScale * g
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3, gradScale: 0.0371 },
  ];
  for (const n of sizes) {
    for (const h of hypers) {
      it(`n=${n} step ${h.step}${h.gradScale ? ` gradScale ${h.gradScale}` : ''}: p, m, v in place`, () => {
        const rng = new TestRng(n + h.step);
        const p0 = f32(rng.uniform(n, -2, 2));
        const g = f32(rng.uniform(n, -1, 1));
        // A few extreme gradients: (1 - beta2) g g must not overflow float32 before being stored.
        if (n >= 17) [g[0], g[1], g[2]] = [1e18, -3e-20, 0];
        const m0 = f32(rng.uniform(n, -0.1, 0.1));
        const v0 = f32(rng.uniform(n, 0, 0.01));
        const ref = { p: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
        const scale = { p: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
        const c1 = 1 - h.beta1 ** h.step;
        const c2 = Math.sqrt(1 - h.beta2 ** h.step);
        for (let i = 0; i < n; i++) {
          const gi = g[i] * (h.gradScale ?? 1);
          ref.m[i] = h.beta1 * m0[i] + (1 - h.beta1) * gi;
          ref.v[i] = h.beta2 * v0[i] + (1 - h.beta2) * gi * gi;
          scale.m[i] = Math.abs(h.beta1 * m0[i]) + Math.abs((1 - h.beta1) * gi);
          scale.v[i] = Math.abs(h.beta2 * v0[i]) + Math.abs((1 - h.beta2) * gi * gi);
          const m32 = Math.fround(ref.m[i]);
          const v32 = Math.fround(ref.v[i]);
          const update = ((h.lr / c1) * m32) / (Math.sqrt(v32) / c2 + h.eps);
          ref.p[i] = p0[i] * (1 - h.lr * h.weightDecay) - update;
          scale.p[i] = Math.abs(p0[i] * (1 - h.lr * h.weightDecay)) + Math.abs(update);
        }
        bothPaths(
          `adamw n=${n}`,
          (path) => {
            const [p, m, v] = [p0.slice(), m0.slice(), v0.slice()];
            const out = run(path, KERNELS.AdamW, [info(p, [n]), info(g, [n]), info(m, [n]), info(v, [n])], h);
            expect(out).toEqual([]);
            return [p, m, v];
          },
          [ref.p, ref.m, ref.v],
          [scale.p, scale.m, scale.v],
        );
      });
    }
  }
});
