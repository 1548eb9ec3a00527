/**
 * Every kernel of the contract, run through runKernel on the gpujs backend, against float64
 * references written here. Parametrised over the gpu.js modes that start on this machine
 * (cpu and webasm here; GL modes where headless-gl or a browser provides them), plus webasm
 * with GL-style layouts and a tiny emulated texture limit, so the GL index paths (flat
 * outputs, float index math) run even without a GL context.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasKernel, runKernel, setBackend, getBackend } from '../src/engine/engine.js';
import { KERNELS, type DType, type KernelName, type TensorInfo } from '../src/engine/kernels.js';
import { gpujsInfo, probeGpujsModes, registerGpujsBackend, type GpujsMode } from '../src/backends/gpujs/index.js';
import { applyDropoutMask } from '../src/engine/dropout-mask.js';

const TOL = 1e-5;
const LONG_TOL = 1e-4;

// ------------------------------------------------------------------ helpers (independent of the backend)

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randArray(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function tensor(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): TensorInfo {
  const backend = getBackend();
  const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  return { storage: backend.fromHost(data), shape: [...shape], dtype, backend: backend.name };
}

function read(info: TensorInfo): number[] {
  return Array.from(getBackend().toHost(info));
}

function run(name: KernelName, inputs: TensorInfo[], attrs: Record<string, unknown> = {}): TensorInfo[] {
  return runKernel(name, inputs, attrs);
}

/** |got - want| <= tol * max(1, |want|) everywhere (NaN only where want is NaN). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g), `${what}[${i}]: got ${g}, want NaN`).toBe(true);
      continue;
    }
    if (g === w) continue; // infinities included
    const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (!(err <= tol)) expect.fail(`${what}[${i}]: got ${g}, want ${w} (relative error ${err} > ${tol})`);
  }
}

function coordsOf(flat: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    c[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return c;
}

function flatOf(coords: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i] + coords[i];
  return f;
}

/** Index into `inShape` of output coordinate `coords` under numpy broadcasting. */
function bcastIndex(coords: readonly number[], inShape: readonly number[]): number {
  const off = coords.length - inShape.length;
  return flatOf(
    inShape.map((d, i) => (d === 1 ? 0 : coords[i + off])),
    inShape,
  );
}

function bcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

function erf(x: number): number {
  // float64 erf: series near 0, continued-fraction erfc beyond (both to ~1e-15)
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const v = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -v : v;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}

const phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
/** Tail-accurate Phi for negative x (1 + erf loses digits there). */
function cdf(x: number): number {
  if (x >= -2) return phi(x);
  const ax = -x / Math.SQRT2;
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  return (0.5 * Math.exp(-ax * ax)) / Math.sqrt(Math.PI) / (ax + f);
}

// ------------------------------------------------------------------ arbitraries

const dimArb = fc.integer({ min: 1, max: 5 });
const shapeArb = (minRank: number, maxRank: number) => fc.array(dimArb, { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 1, max: 2 ** 30 });

/** A shape that broadcasts to `out`: some leading dims dropped, some dims set to 1. */
const broadcastableTo = (out: number[]) =>
  fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

/** GPUJS_TEST_RUNS raises the property runs for a local soak; the default keeps CI quick. */
const RUNS = { numRuns: Number(process.env.GPUJS_TEST_RUNS ?? 12) };

// ------------------------------------------------------------------ variants

const probes = probeGpujsModes();

interface Variant {
  label: string;
  mode: GpujsMode;
  emulateTextureLimit?: number;
  inlineIndexThreshold?: number;
}

const variants: Variant[] = (['cpu', 'webasm', 'headlessgl', 'webgl2', 'webgl'] as const)
  .filter((mode) => probes[mode] === 'ok')
  .map((mode) => ({ label: mode, mode }));
if (probes.webasm === 'ok') {
  // the code paths large tensors take, on small ones: GL-style flat layouts past a texture
  // side limit, and indices spelled out as integer expressions (needed from 2^24 elements)
  variants.push({ label: 'webasm with GL layouts (64-texel limit)', mode: 'webasm', emulateTextureLimit: 64 });
  variants.push({ label: 'webasm with inline indices', mode: 'webasm', inlineIndexThreshold: 0 });
}
variants.push({ label: 'cpu with inline indices', mode: 'cpu', inlineIndexThreshold: 0 });

describe('gpujs modes', () => {
  it('starts cpu and webasm here, and explains the modes that do not start', () => {
    expect(probes.cpu).toBe('ok');
    expect(probes.webasm).toBe('ok');
    expect(probes.webgpu).toMatch(/Promise/);
    if (probes.headlessgl !== 'ok') expect(probes.headlessgl).toMatch(/gl/);
  });

  it('registers every kernel of the contract', () => {
    registerGpujsBackend();
    for (const name of Object.values(KERNELS)) expect(hasKernel('gpujs', name), name).toBe(true);
  });

  it('takes the mode from RETRO_GPUJS_MODE, and an option over it', () => {
    const saved = process.env.RETRO_GPUJS_MODE;
    try {
      process.env.RETRO_GPUJS_MODE = 'cpu';
      registerGpujsBackend();
      expect(gpujsInfo()).toMatchObject({ mode: 'cpu', source: 'env', requested: 'cpu' });
      registerGpujsBackend({ mode: 'webasm' });
      expect(gpujsInfo()).toMatchObject({ mode: 'webasm', source: 'option', simd: true });
      process.env.RETRO_GPUJS_MODE = 'warp-drive';
      registerGpujsBackend();
      expect(() => setBackend('gpujs')).toThrow(/unknown gpu.js mode 'warp-drive'/);
    } finally {
      if (saved === undefined) delete process.env.RETRO_GPUJS_MODE;
      else process.env.RETRO_GPUJS_MODE = saved;
    }
  });

  it('defaults to the best mode that starts', () => {
    const saved = process.env.RETRO_GPUJS_MODE;
    delete process.env.RETRO_GPUJS_MODE;
    try {
      registerGpujsBackend();
      const best = (['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'] as const).find((m) => probes[m] === 'ok');
      expect(gpujsInfo()).toMatchObject({ mode: best, source: 'default', requested: 'default' });
    } finally {
      if (saved !== undefined) process.env.RETRO_GPUJS_MODE = saved;
    }
  });

  it('throws, saying why, when a requested mode cannot start (never falls back)', () => {
    registerGpujsBackend({ mode: 'webgpu' });
    expect(() => setBackend('gpujs')).toThrow(/starts asynchronously.*await setBackendAsync/);
    if (probes.headlessgl !== 'ok') {
      registerGpujsBackend({ mode: 'headlessgl' });
      expect(() => setBackend('gpujs')).toThrow(/cannot start here.*headless-gl/);
      registerGpujsBackend({ mode: 'gpu' });
      expect(() => setBackend('gpujs')).toThrow(/no gpu.js GPU \(GL\) mode starts here/);
    }
  });
});

// ------------------------------------------------------------------ kernels, per variant

describe.each(variants)('gpujs kernels on $label', (variant) => {
  beforeAll(() => {
    registerGpujsBackend({
      mode: variant.mode,
      emulateTextureLimit: variant.emulateTextureLimit,
      inlineIndexThreshold: variant.inlineIndexThreshold,
    });
    setBackend('gpujs');
    expect(gpujsInfo().mode).toBe(variant.mode);
  });

  const unaryRefs: Record<string, { ref: (x: number) => number; lo: number; hi: number }> = {
    Neg: { ref: (x) => -x, lo: -3, hi: 3 },
    Exp: { ref: Math.exp, lo: -5, hi: 5 },
    Log: { ref: Math.log, lo: 0.01, hi: 50 },
    Sqrt: { ref: Math.sqrt, lo: 0, hi: 50 },
    Tanh: { ref: Math.tanh, lo: -6, hi: 6 },
    Relu: { ref: (x) => Math.max(x, 0), lo: -3, hi: 3 },
    Gelu: { ref: (x) => x * cdf(x), lo: -9, hi: 9 },
  };

  for (const [name, { ref, lo, hi }] of Object.entries(unaryRefs)) {
    it(`${name} matches its float64 reference`, () => {
      fc.assert(
        fc.property(shapeArb(0, 4), seedArb, (shape, seed) => {
          const x = randArray(size(shape), seed, lo, hi);
          const [y] = run(name as KernelName, [tensor(x, shape)]);
          expect(y.shape).toEqual(shape);
          expectClose(read(y), Array.from(x, ref), TOL, name);
        }),
        RUNS,
      );
    });
  }

  it('Tanh, Exp and Gelu hold at extreme and tiny arguments', () => {
    const x = [-60, -20, -1e-4, -3e-7, 0, 3e-5, 0.05, 0.07, 20, 60];
    const [t] = run('Tanh', [tensor(x, [x.length])]);
    expectClose(read(t), x.map((v) => Math.tanh(Math.fround(v))), TOL, 'Tanh');
    const [g] = run('Gelu', [tensor(x, [x.length])]);
    expectClose(read(g), x.map((v) => Math.fround(v) * cdf(Math.fround(v))), TOL, 'Gelu');
    const [e] = run('Exp', [tensor([-100, 80, 89], [3])]);
    expectClose(read(e), [Math.exp(-100), Math.exp(80), Infinity], TOL, 'Exp');
  });

  it('Affine computes x * scale + bias', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), seedArb, fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (shape, seed, scale, bias) => {
        const x = randArray(size(shape), seed);
        const [y] = run('Affine', [tensor(x, shape)], { scale, bias });
        expectClose(read(y), Array.from(x, (v) => v * scale + bias), TOL, 'Affine');
      }),
      RUNS,
    );
  });

  it('GeluGrad and ReluGrad multiply dy by the derivative', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), seedArb, (shape, seed) => {
        const n = size(shape);
        const x = randArray(n, seed, -7, 7);
        const dy = randArray(n, seed + 1);
        const [g] = run('GeluGrad', [tensor(x, shape), tensor(dy, shape)]);
        const gRef = Array.from(x, (v, i) => dy[i] * (cdf(v) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI)));
        expectClose(read(g), gRef, TOL, 'GeluGrad');
        const [r] = run('ReluGrad', [tensor(x, shape), tensor(dy, shape)]);
        expectClose(read(r), Array.from(x, (v, i) => (v > 0 ? dy[i] : 0)), 0, 'ReluGrad');
      }),
      RUNS,
    );
  });

  const binaryRefs: Record<string, (a: number, b: number) => number> = {
    Add: (a, b) => a + b,
    Sub: (a, b) => a - b,
    Mul: (a, b) => a * b,
    Div: (a, b) => a / b,
  };
  for (const [name, ref] of Object.entries(binaryRefs)) {
    it(`${name} broadcasts like numpy`, () => {
      fc.assert(
        fc.property(
          shapeArb(0, 4).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out))),
          seedArb,
          ([aShape, bShape], seed) => {
            const a = randArray(size(aShape), seed);
            // keep divisors away from 0
            const b = randArray(size(bShape), seed + 7, 0.5, 2).map((v, i) => (i % 2 ? -v : v));
            const [y] = run(name as KernelName, [tensor(a, aShape), tensor(b, bShape)]);
            const outShape = bcastShape(aShape, bShape);
            expect(y.shape).toEqual(outShape);
            const want = Array.from({ length: size(outShape) }, (_, i) => {
              const c = coordsOf(i, outShape);
              return ref(a[bcastIndex(c, aShape)], b[bcastIndex(c, bShape)]);
            });
            expectClose(read(y), want, TOL, name);
          },
        ),
        RUNS,
      );
    });
  }

  it('Add handles the attention-mask pattern [B, 1, 1, L] + [B, h, L, L]', () => {
    const a = randArray(2 * 3 * 4 * 4, 5);
    const m = randArray(2 * 4, 6);
    const [y] = run('Add', [tensor(a, [2, 3, 4, 4]), tensor(m, [2, 1, 1, 4])]);
    const want = Array.from(a, (v, i) => {
      const [b, , , j] = coordsOf(i, [2, 3, 4, 4]);
      return v + m[b * 4 + j];
    });
    expectClose(read(y), want, TOL, 'Add mask');
  });

  it('Where selects a or b by a float or int32 condition, broadcast', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out), broadcastableTo(out))),
        seedArb,
        fc.boolean(),
        ([cShape, aShape, bShape], seed, intCond) => {
          const r = prng(seed);
          const cond = Array.from({ length: size(cShape) }, () => (r() < 0.5 ? 0 : intCond ? 1 : 0.25));
          const a = randArray(size(aShape), seed + 1);
          const b = randArray(size(bShape), seed + 2);
          const [y] = run('Where', [tensor(cond, cShape, intCond ? 'int32' : 'float32'), tensor(a, aShape), tensor(b, bShape)]);
          const outShape = bcastShape(cShape, aShape, bShape);
          const want = Array.from({ length: size(outShape) }, (_, i) => {
            const c = coordsOf(i, outShape);
            return cond[bcastIndex(c, cShape)] !== 0 ? a[bcastIndex(c, aShape)] : b[bcastIndex(c, bShape)];
          });
          expectClose(read(y), want, 0, 'Where');
        },
      ),
      RUNS,
    );
  });

  function sumRef(x: Float32Array, shape: number[], axes: number[], keepDims: boolean) {
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = new Float64Array(size(outShape));
    for (let i = 0; i < x.length; i++) {
      const c = coordsOf(i, shape).map((v, d) => (axes.includes(d) ? 0 : v));
      out[flatOf(c, outShape)] += x[i];
    }
    return { values: Array.from(out), shape: keepDims ? outShape : shape.filter((_, i) => !axes.includes(i)) };
  }

  it('Sum reduces any set of axes, with and without keepDims', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 5).chain((shape) => fc.tuple(fc.constant(shape), fc.subarray([...shape.keys()]))),
        seedArb,
        fc.boolean(),
        ([shape, axes], seed, keepDims) => {
          const x = randArray(size(shape), seed);
          const [y] = run('Sum', [tensor(x, shape)], { axes, keepDims });
          const want = sumRef(x, shape, axes, keepDims);
          expect(y.shape).toEqual(want.shape);
          expectClose(read(y), want.values, TOL, 'Sum');
        },
      ),
      RUNS,
    );
  });

  it('Sum stays accurate over long rows and columns', () => {
    for (const [shape, axes] of [
      [[3, 3001], [1]],
      [[2500, 3], [0]],
      [[7, 40, 2, 30], [1, 3]],
    ] as [number[], number[]][]) {
      const x = randArray(size(shape), 99, -1, 1.5);
      const [y] = run('Sum', [tensor(x, shape)], { axes, keepDims: false });
      expectClose(read(y), sumRef(x, shape, axes, false).values, LONG_TOL, `Sum ${JSON.stringify(shape)}`);
    }
  });

  function matmulRef(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], transA: boolean, transB: boolean) {
    const ar = aShape.length;
    const br = bShape.length;
    const M = transA ? aShape[ar - 1] : aShape[ar - 2];
    const K = transA ? aShape[ar - 2] : aShape[ar - 1];
    const N = transB ? bShape[br - 2] : bShape[br - 1];
    const batchShape = ar > 2 ? aShape.slice(0, -2) : bShape.slice(0, -2);
    const batch = size(batchShape);
    const out: number[] = [];
    for (let t = 0; t < batch; t++) {
      const ao = ar > 2 ? t * M * K : 0;
      const bo = br > 2 ? t * K * N : 0;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) {
            const av = a[ao + (transA ? k * M + m : m * K + k)];
            const bv = b[bo + (transB ? n * K + k : k * N + n)];
            s += av * bv;
          }
          out.push(s);
        }
      }
    }
    return { values: out, shape: [...batchShape, M, N] };
  }

  it('MatMul handles batches, a shared 2-D b, and transposed operands', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        seedArb,
        (batch, M, K, N, transA, transB, sharedB, seed) => {
          const aShape = [...batch, ...(transA ? [K, M] : [M, K])];
          const bShape = [...(sharedB ? [] : batch), ...(transB ? [N, K] : [K, N])];
          const a = randArray(size(aShape), seed);
          const b = randArray(size(bShape), seed + 3);
          const [y] = run('MatMul', [tensor(a, aShape), tensor(b, bShape)], { transA, transB });
          const want = matmulRef(a, aShape, b, bShape, transA, transB);
          expect(y.shape).toEqual(want.shape);
          expectClose(read(y), want.values, TOL, 'MatMul');
        },
      ),
      RUNS,
    );
  });

  it('MatMul with alpha and a bias [N]: alpha * op(a) op(b) + bias on every row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1, 0.125, -1.75),
        fc.boolean(),
        seedArb,
        (batch, M, K, N, transA, transB, alpha, withBias, seed) => {
          const aShape = [...batch, ...(transA ? [K, M] : [M, K])];
          const bShape = transB ? [N, K] : [K, N];
          const a = randArray(size(aShape), seed);
          const b = randArray(size(bShape), seed + 3);
          const bias = randArray(N, seed + 5);
          const inputs = [tensor(a, aShape), tensor(b, bShape), ...(withBias ? [tensor(bias, [N])] : [])];
          const [y] = run('MatMul', inputs, { transA, transB, alpha });
          const want = matmulRef(a, aShape, b, bShape, transA, transB);
          expect(y.shape).toEqual(want.shape);
          const expected = want.values.map((v, i) => alpha * v + (withBias ? bias[i % N] : 0));
          expectClose(read(y), expected, TOL, 'MatMul alpha/bias');
        },
      ),
      RUNS,
    );
  });

  it('Dropout multiplies by the host-hashed mask, bit for bit as the cpu backend', () => {
    const x = randArray(1000, 21);
    for (const [p, seed] of [
      [0.1, 7],
      [0.6, 0xfffffff0],
    ] as const) {
      const [y] = run('Dropout', [tensor(x, [10, 100])], { p, seed });
      const mask = new Float32Array(1000);
      // the cpu backend's mask (engine/dropout-mask.ts is shared; tests/ops-nn checks it against a BigInt hash)
      applyDropoutMask(null, mask, p, seed);
      expect(read(y)).toEqual(Array.from(x, (v, i) => Math.fround(Math.fround(v) * mask[i])));
      expect(mask.filter((m) => m === 0).length).toBeGreaterThan(0);
    }
  });

  it('MatMul is accurate on a larger product and gives zeros for K = 0', () => {
    const a = randArray(37 * 301, 11);
    const b = randArray(301 * 45, 12);
    const [y] = run('MatMul', [tensor(a, [37, 301]), tensor(b, [301, 45])]);
    expectClose(read(y), matmulRef(a, [37, 301], b, [301, 45], false, false).values, LONG_TOL, 'MatMul 37x301x45');
    const [z] = run('MatMul', [tensor([], [3, 0]), tensor([], [0, 2])]);
    expect(z.shape).toEqual([3, 2]);
    expect(read(z)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('Transpose materialises any permutation', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 5).chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length }))),
        seedArb,
        ([shape, perm], seed) => {
          const x = randArray(size(shape), seed);
          const [y] = run('Transpose', [tensor(x, shape)], { perm });
          const outShape = perm.map((p) => shape[p]);
          expect(y.shape).toEqual(outShape);
          const want = Array.from({ length: x.length }, (_, i) => {
            const c = coordsOf(i, outShape);
            const src = new Array<number>(shape.length);
            perm.forEach((p, k) => (src[p] = c[k]));
            return x[flatOf(src, shape)];
          });
          expectClose(read(y), want, 0, 'Transpose');
        },
      ),
      RUNS,
    );
  });

  const boxArb = shapeArb(1, 4).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))),
    ),
  );

  it('Slice takes a box', () => {
    fc.assert(
      fc.property(boxArb, seedArb, ([shape, box], seed) => {
        const begin = box.map(([b]) => b);
        const sz = box.map(([, s]) => s);
        const x = randArray(size(shape), seed);
        const [y] = run('Slice', [tensor(x, shape)], { begin, size: sz });
        expect(y.shape).toEqual(sz);
        const want = Array.from({ length: size(sz) }, (_, i) => x[flatOf(coordsOf(i, sz).map((c, d) => c + begin[d]), shape)]);
        expectClose(read(y), want, 0, 'Slice');
      }),
      RUNS,
    );
  });

  it('SliceGrad writes dy into zeros at begin', () => {
    fc.assert(
      fc.property(boxArb, seedArb, ([shape, box], seed) => {
        const begin = box.map(([b]) => b);
        const sz = box.map(([, s]) => s);
        const dy = randArray(size(sz), seed);
        const [y] = run('SliceGrad', [tensor(dy, sz)], { begin, shape });
        expect(y.shape).toEqual(shape);
        const want = new Array<number>(size(shape)).fill(0);
        for (let i = 0; i < dy.length; i++) want[flatOf(coordsOf(i, sz).map((c, d) => c + begin[d]), shape)] = dy[i];
        expectClose(read(y), want, 0, 'SliceGrad');
      }),
      RUNS,
    );
  });

  it('Concat joins any number of tensors (more than one program holds) along any axis', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 11 })),
        ),
        seedArb,
        ([shape, axis, lens], seed) => {
          const parts = lens.map((len, i) => {
            const s = [...shape];
            s[axis] = len;
            return { shape: s, values: randArray(size(s), seed + i) };
          });
          const [y] = run(
            'Concat',
            parts.map((p) => tensor(p.values, p.shape)),
            { axis },
          );
          const outShape = [...shape];
          outShape[axis] = lens.reduce((a, b) => a + b, 0);
          expect(y.shape).toEqual(outShape);
          const want = Array.from({ length: size(outShape) }, (_, i) => {
            const c = coordsOf(i, outShape);
            let at = c[axis];
            let p = 0;
            while (at >= lens[p]) at -= lens[p++];
            const cc = [...c];
            cc[axis] = at;
            return parts[p].values[flatOf(cc, parts[p].shape)];
          });
          expectClose(read(y), want, 0, 'Concat');
        },
      ),
      RUNS,
    );
  });

  it('Gather looks rows up by int32 id and throws on an out-of-range id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 12 }), seedArb, (V, H, N, seed) => {
        const w = randArray(V * H, seed);
        const r = prng(seed + 1);
        const ids = Array.from({ length: N }, () => Math.floor(r() * V));
        const [y] = run('Gather', [tensor(w, [V, H]), tensor(ids, [N], 'int32')]);
        expect(y.shape).toEqual([N, H]);
        expectClose(read(y), ids.flatMap((id) => Array.from(w.subarray(id * H, id * H + H))), 0, 'Gather');
      }),
      RUNS,
    );
    expect(() => run('Gather', [tensor([1, 2, 3, 4], [2, 2]), tensor([0, 2], [2], 'int32')])).toThrow(/ids\[1\] = 2 is out of range/);
  });

  it('ScatterAdd and ScatterAddInPlace accumulate repeated ids and skip paddingIdx', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        fc.option(fc.integer({ min: 0, max: 6 })),
        seedArb,
        (V, H, N, pad, seed) => {
          const dy = randArray(N * H, seed);
          const r = prng(seed + 1);
          const ids = Array.from({ length: N }, () => Math.floor(r() * V));
          const paddingIdx = pad === null ? null : pad % V;
          const scattered = new Array<number>(V * H).fill(0);
          ids.forEach((id, n) => {
            if (id === paddingIdx) return;
            for (let h = 0; h < H; h++) scattered[id * H + h] += dy[n * H + h];
          });
          const [y] = run('ScatterAdd', [tensor(dy, [N, H]), tensor(ids, [N], 'int32')], { numRows: V, paddingIdx });
          expect(y.shape).toEqual([V, H]);
          expectClose(read(y), scattered, TOL, 'ScatterAdd');
          const a0 = randArray(V * H, seed + 2);
          const acc = tensor(a0, [V, H]);
          expect(run('ScatterAddInPlace', [acc, tensor(dy, [N, H]), tensor(ids, [N], 'int32')], { paddingIdx })).toEqual([]);
          expectClose(read(acc), scattered.map((v, i) => a0[i] + v), TOL, 'ScatterAddInPlace');
        },
      ),
      RUNS,
    );
    expect(() => run('ScatterAddInPlace', [tensor([1, 2, 3, 4], [2, 2]), tensor([1, 2, 3], [1, 3]), tensor([0], [1], 'int32')], {})).toThrow(/acc \[V, H\] and dy \[N, H\], got \[2,2\] and \[1,3\]/);
  });

  function layerNormRef(x: Float32Array, H: number, gamma: Float32Array, beta: Float32Array, eps: number) {
    const R = x.length / H;
    const y: number[] = [];
    const mean: number[] = [];
    const rstd: number[] = [];
    for (let r = 0; r < R; r++) {
      const row = Array.from(x.subarray(r * H, r * H + H));
      const mu = row.reduce((a, b) => a + b, 0) / H;
      const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / H;
      const rs = 1 / Math.sqrt(v + eps);
      mean.push(mu);
      rstd.push(rs);
      row.forEach((val, h) => y.push((val - mu) * rs * gamma[h] + beta[h]));
    }
    return { y, mean, rstd };
  }

  it('LayerNorm normalises the last axis and returns mean and rstd', () => {
    fc.assert(
      fc.property(shapeArb(0, 2), fc.integer({ min: 1, max: 100 }), seedArb, (lead, H, seed) => {
        const shape = [...lead, H];
        const x = randArray(size(shape), seed, -3, 5);
        const gamma = randArray(H, seed + 1, 0.5, 1.5);
        const beta = randArray(H, seed + 2);
        const [y, mean, rstd] = run('LayerNorm', [tensor(x, shape), tensor(gamma, [H]), tensor(beta, [H])], { eps: 1e-5 });
        const want = layerNormRef(x, H, gamma, beta, 1e-5);
        expect(y.shape).toEqual(shape);
        expect(mean.shape).toEqual([size(lead)]);
        expectClose(read(y), want.y, LONG_TOL, 'LayerNorm y');
        expectClose(read(mean), want.mean, TOL, 'LayerNorm mean');
        expectClose(read(rstd), want.rstd, LONG_TOL, 'LayerNorm rstd');
      }),
      RUNS,
    );
  });

  it('LayerNormGrad matches the analytic gradient', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 80 }), seedArb, (R, H, seed) => {
        const x = randArray(R * H, seed, -2, 3);
        const dy = randArray(R * H, seed + 1);
        const gamma = randArray(H, seed + 2, 0.5, 1.5);
        const ref = layerNormRef(x, H, gamma, new Float32Array(H), 1e-5);
        const mean = Float32Array.from(ref.mean);
        const rstd = Float32Array.from(ref.rstd);
        const [dx, dgamma, dbeta] = run('LayerNormGrad', [
          tensor(dy, [R, H]),
          tensor(x, [R, H]),
          tensor(gamma, [H]),
          tensor(mean, [R]),
          tensor(rstd, [R]),
        ]);
        const dxRef: number[] = [];
        const dgRef = new Array<number>(H).fill(0);
        const dbRef = new Array<number>(H).fill(0);
        for (let r = 0; r < R; r++) {
          const xhat = Array.from({ length: H }, (_, h) => (x[r * H + h] - mean[r]) * rstd[r]);
          const g = Array.from({ length: H }, (_, h) => dy[r * H + h] * gamma[h]);
          const a = g.reduce((s, v) => s + v, 0) / H;
          const b = g.reduce((s, v, h) => s + v * xhat[h], 0) / H;
          for (let h = 0; h < H; h++) {
            dxRef.push(rstd[r] * (g[h] - a - xhat[h] * b));
            dgRef[h] += dy[r * H + h] * xhat[h];
            dbRef[h] += dy[r * H + h];
          }
        }
        expectClose(read(dx), dxRef, LONG_TOL, 'LayerNormGrad dx');
        expectClose(read(dgamma), dgRef, LONG_TOL, 'LayerNormGrad dgamma');
        expectClose(read(dbeta), dbRef, LONG_TOL, 'LayerNormGrad dbeta');
      }),
      RUNS,
    );
  });

  function softmaxRef(v: number[], C: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < v.length / C; r++) {
      const row = v.slice(r * C, r * C + C).map((e) => Math.max(e, -3.4028234663852886e38));
      const mx = Math.max(...row);
      const e = row.map((val) => Math.exp(val - mx));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((val) => out.push(val / s));
    }
    return out;
  }

  it('Softmax over the last axis, with and without a broadcast mask', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4).chain((shape) => fc.tuple(fc.constant(shape), fc.option(broadcastableTo(shape)))),
        fc.integer({ min: 1, max: 90 }),
        seedArb,
        ([lead, maskLead], C, seed) => {
          const shape = [...lead.slice(0, -1), C];
          const x = randArray(size(shape), seed, -6, 6);
          const inputs = [tensor(x, shape)];
          let v = Array.from(x);
          if (maskLead) {
            const maskShape = [...maskLead.slice(0, -1), C];
            const fixedMask = maskShape.length > shape.length ? maskShape.slice(-shape.length) : maskShape;
            const r = prng(seed + 5);
            const mask = Array.from({ length: size(fixedMask) }, () => (r() < 0.3 ? -3.4e38 : r() - 0.5));
            inputs.push(tensor(mask, fixedMask));
            v = v.map((val, i) => val + mask[bcastIndex(coordsOf(i, shape), fixedMask)]);
          }
          const [y] = run('Softmax', inputs);
          expectClose(read(y), softmaxRef(v, C), TOL, 'Softmax');
        },
      ),
      RUNS,
    );
  });

  it('Softmax gives a uniform row, not NaN, when every entry is masked', () => {
    const [y] = run('Softmax', [tensor([-3.4e38, -3.4e38, -3.4e38, -3.4e38, 1, 2, 3, 4], [2, 4]), tensor([-3.4e38, -3.4e38, -3.4e38, -3.4e38], [4])]);
    expectClose(read(y), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25], TOL, 'Softmax masked');
  });

  it('SoftmaxGrad computes y * (dy - sum(dy * y))', () => {
    fc.assert(
      fc.property(shapeArb(0, 2), fc.integer({ min: 1, max: 90 }), seedArb, (lead, C, seed) => {
        const shape = [...lead, C];
        const y = Float32Array.from(softmaxRef(Array.from(randArray(size(shape), seed, -3, 3)), C));
        const dy = randArray(size(shape), seed + 1);
        const [dx] = run('SoftmaxGrad', [tensor(y, shape), tensor(dy, shape)]);
        const want = Array.from(y, (yv, i) => {
          const r = Math.floor(i / C);
          let dot = 0;
          for (let c = 0; c < C; c++) dot += dy[r * C + c] * y[r * C + c];
          return yv * (dy[i] - dot);
        });
        expectClose(read(dx), want, TOL, 'SoftmaxGrad');
      }),
      RUNS,
    );
  });

  function ceRef(logits: Float32Array, labels: number[], C: number, ignore: number) {
    const N = labels.length;
    const lse: number[] = [];
    let total = 0;
    let count = 0;
    for (let n = 0; n < N; n++) {
      const row = Array.from(logits.subarray(n * C, n * C + C));
      const mx = Math.max(...row);
      lse.push(mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0)));
      if (labels[n] !== ignore) {
        total += lse[n] - row[labels[n]];
        count++;
      }
    }
    return { loss: count > 0 ? total / count : 0, lse, count };
  }

  const ceArb = fc
    .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 150 }), seedArb, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([N, C, seed, ignoreShare]) => {
      const r = prng(seed);
      const labels = Array.from({ length: N }, () => (r() < ignoreShare * 0.5 ? -100 : Math.floor(r() * C)));
      return { N, C, seed, labels, logits: randArray(N * C, seed + 1, -8, 8) };
    });

  it('CrossEntropy returns the mean over counted rows and logSumExp', () => {
    fc.assert(
      fc.property(ceArb, ({ N, C, labels, logits }) => {
        const [loss, lse] = run('CrossEntropy', [tensor(logits, [N, C]), tensor(labels, [N], 'int32')], { ignoreIndex: -100 });
        const want = ceRef(logits, labels, C, -100);
        expect(loss.shape).toEqual([]);
        expect(lse.shape).toEqual([N]);
        expectClose(read(loss), [want.loss], LONG_TOL, 'CrossEntropy loss');
        expectClose(read(lse), want.lse, TOL, 'CrossEntropy lse');
      }),
      RUNS,
    );
    const [zero] = run('CrossEntropy', [tensor([1, 2, 3, 4], [2, 2]), tensor([7, 7], [2], 'int32')], { ignoreIndex: 7 });
    expect(read(zero)).toEqual([0]);
    expect(() => run('CrossEntropy', [tensor([1, 2, 3, 4], [2, 2]), tensor([0, 2], [2], 'int32')], { ignoreIndex: -100 })).toThrow(
      /labels\[1\] = 2/,
    );
  });

  it('CrossEntropyGrad is (softmax - onehot) * dLoss / counted rows', () => {
    fc.assert(
      fc.property(ceArb, fc.double({ min: -2, max: 2, noNaN: true }), ({ N, C, labels, logits }, dLoss) => {
        const want = ceRef(logits, labels, C, -100);
        const lse = Float32Array.from(want.lse);
        const [g] = run('CrossEntropyGrad', [tensor(logits, [N, C]), tensor(labels, [N], 'int32'), tensor(lse, [N]), tensor([dLoss], [])], {
          ignoreIndex: -100,
        });
        const ref = Array.from(logits, (v, i) => {
          const n = Math.floor(i / C);
          if (labels[n] === -100) return 0;
          return (Math.exp(v - lse[n]) - (i % C === labels[n] ? 1 : 0)) * (dLoss / want.count);
        });
        expect(g.shape).toEqual([N, C]);
        expectClose(read(g), ref, TOL, 'CrossEntropyGrad');
      }),
      RUNS,
    );
  });

  it('Cast truncates floats toward zero into int32 (toHost gives an Int32Array) and back', () => {
    const [i] = run('Cast', [tensor([-2.7, -0.5, 0, 0.5, 3.99, 1e6 + 0.5], [6])], { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    const host = getBackend().toHost(i);
    expect(host).toBeInstanceOf(Int32Array);
    expect(Array.from(host)).toEqual([-2, 0, 0, 0, 3, 1000000]);
    const [f] = run('Cast', [i], { dtype: 'float32' });
    expect(getBackend().toHost(f)).toBeInstanceOf(Float32Array);
    expect(read(f)).toEqual([-2, 0, 0, 0, 3, 1000000]);
  });

  it('AdamW updates p, m and v in place with PyTorch’s formula', () => {
    const n = 37;
    const p0 = randArray(n, 1);
    const m0 = randArray(n, 2, -0.1, 0.1);
    const v0 = randArray(n, 3, 0, 0.01);
    const p = tensor(p0, [n]);
    const m = tensor(m0, [n]);
    const v = tensor(v0, [n]);
    const ref = { p: Array.from(p0), m: Array.from(m0), v: Array.from(v0) };
    const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
    for (let step = 1; step <= 3; step++) {
      const g = randArray(n, 10 + step);
      // step 2: clipping folded in (the update of gradScale * g; g itself is not written)
      const gradScale = step === 2 ? 0.0371 : 1;
      const gTensor = tensor(g, [n]);
      const out = run('AdamW', [p, gTensor, m, v], { ...hyper, step, ...(step === 2 ? { gradScale } : {}) });
      expect(out).toEqual([]);
      expect(read(gTensor)).toEqual(Array.from(Float32Array.from(g)));
      const bc1 = 1 - hyper.beta1 ** step;
      const bc2 = 1 - hyper.beta2 ** step;
      for (let i = 0; i < n; i++) {
        const gi = g[i] * gradScale;
        ref.p[i] *= 1 - hyper.lr * hyper.weightDecay;
        ref.m[i] = hyper.beta1 * ref.m[i] + (1 - hyper.beta1) * gi;
        ref.v[i] = hyper.beta2 * ref.v[i] + (1 - hyper.beta2) * gi * gi;
        ref.p[i] -= (hyper.lr / bc1) * (ref.m[i] / (Math.sqrt(ref.v[i]) / Math.sqrt(bc2) + hyper.eps));
      }
      expectClose(read(p), ref.p, TOL, `AdamW p step ${step}`);
      expectClose(read(m), ref.m, TOL, `AdamW m step ${step}`);
      expectClose(read(v), ref.v, TOL, `AdamW v step ${step}`);
    }
  });

  it('AddInPlace accumulates into acc', () => {
    const a0 = randArray(24, 4);
    const x = randArray(24, 5);
    const acc = tensor(a0, [2, 3, 4]);
    expect(run('AddInPlace', [acc, tensor(x, [2, 3, 4])])).toEqual([]);
    expect(run('AddInPlace', [acc, tensor(x, [2, 3, 4])])).toEqual([]);
    expectClose(read(acc), Array.from(a0, (v, i) => v + 2 * x[i]), TOL, 'AddInPlace');
  });

  it('compiles a kernel once per shape and reuses it', () => {
    const x = tensor(randArray(30, 8), [5, 6]);
    run('Exp', [x]);
    const before = gpujsInfo().compilations;
    run('Exp', [x]);
    run('Exp', [tensor(randArray(30, 9), [5, 6])]);
    expect(gpujsInfo().compilations).toBe(before);
    run('Exp', [tensor(randArray(31, 9), [31])]);
    expect(gpujsInfo().compilations).toBe(before + 1);
  });

  it('took the layout and index paths this variant is for', () => {
    const info = gpujsInfo();
    if (variant.emulateTextureLimit !== undefined) expect(info.flatCompilations).toBeGreaterThan(10);
    else expect(info.flatCompilations).toBe(0);
    if (variant.inlineIndexThreshold === 0) expect(info.inlineCompilations).toBe(info.compilations);
    else expect(info.inlineCompilations).toBe(0);
  });
});
