/**
 * Assertions for float32 results against float64 references, and the op harness: forward vs a
 * float64 reference, then `.backward(w)` (float32, analytic) vs central finite differences of
 * sum(reference(x) * w) in float64.
 */
import { readTensors, tensor, type Tensor } from '../../src/index.js';
import { nd, type Nd } from './ref.js';
import { TestRng } from './rng.js';

export interface Tolerance {
  /** Relative to |expected| per element. */
  rtol?: number;
  /** Absolute slack per element. */
  atol?: number;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(8) : String(v);
}

/** |actual - expected| <= atol + rtol |expected| elementwise; NaN only where NaN is expected. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, what = 'values'): void {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let excess: number;
    if (Number.isNaN(e) || Number.isNaN(a)) excess = Number.isNaN(e) && Number.isNaN(a) ? -1 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) excess = a === e ? -1 : Infinity;
    else excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > 0) bad++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${what}: ${bad}/${actual.length} outside atol ${atol} + rtol ${rtol}; worst at flat index ${worst}: got ${fmt(actual[worst])}, expected ${fmt(expected[worst])}`,
    );
  }
}

export function expectShape(t: Tensor, shape: readonly number[], what = 'shape'): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${what}: got [${t.shape}], expected [${shape}]`);
  }
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

export interface InputSpec {
  shape: readonly number[];
  data: ArrayLike<number>;
  dtype?: 'float32' | 'int32';
  /** Whether to check this input's gradient (float32 inputs only); default true. */
  grad?: boolean;
}

export interface OpCase {
  label?: string;
  inputs: readonly InputSpec[];
  run: (xs: Tensor[]) => Tensor;
  ref: (xs: Nd[]) => Nd;
  forward?: Tolerance;
  /** Gradient tolerance: |g - fd| <= rel * max|fd| + abs (elementwise in 'full' mode). */
  gradRel?: number;
  gradAbs?: number;
  /** 'full': every element; 'directional': a few random directions per input; 'auto' picks by size. */
  fd?: 'full' | 'directional' | 'auto' | 'none';
  /** Central-difference step, scaled by max(1, |x|). */
  step?: number;
  seed?: number;
}

export interface OpResult {
  out: Tensor;
  inputs: Tensor[];
  expected: Nd;
}

/** Makes a tensor on the active backend holding exactly `spec.data` (float32- or int32-exact). */
export function makeTensor(spec: InputSpec, requiresGrad = false): Tensor {
  const values = spec.dtype === 'int32' ? Int32Array.from(spec.data) : Float32Array.from(spec.data);
  return tensor(values, spec.shape, { requiresGrad });
}

interface Prepared {
  label: string;
  wantsGrad: boolean[];
  inputs: Tensor[];
  refInputs: Nd[];
  out: Tensor;
  expected: Nd;
}

function prepare(c: OpCase): Prepared {
  const label = c.label ? `${c.label}: ` : '';
  const fdMode = c.fd ?? 'auto';
  const wantsGrad = c.inputs.map((s) => fdMode !== 'none' && (s.dtype ?? 'float32') === 'float32' && s.grad !== false);
  const inputs = c.inputs.map((s, i) => makeTensor(s, wantsGrad[i]));
  const refInputs = c.inputs.map((s) => nd(s.shape, Array.from(s.dtype === 'int32' ? s.data : Float32Array.from(s.data))));
  const out = c.run(inputs);
  const expected = c.ref(refInputs);
  expectShape(out, expected.shape, `${label}forward shape`);
  return { label, wantsGrad, inputs, refInputs, out, expected };
}

/** The analytic gradient of input i against central differences of sum(ref(x) * w). */
function checkGradient(c: OpCase, p: Prepared, i: number, analytic: ArrayLike<number>, w: ArrayLike<number>, rng: TestRng): void {
  const { label, refInputs } = p;
  const fdMode = c.fd ?? 'auto';
  const rel = c.gradRel ?? 1e-4;
  const abs = c.gradAbs ?? 1e-6;
  const step = c.step ?? 1e-5;
  const x = refInputs[i].data;
  const mode = fdMode === 'auto' ? (x.length <= 300 ? 'full' : 'directional') : fdMode;
  const probe = (delta: (j: number) => number): number => {
    const plus = refInputs.map((r, k) => (k === i ? { shape: r.shape, data: r.data.map((v, j) => v + delta(j)) } : r));
    const minus = refInputs.map((r, k) => (k === i ? { shape: r.shape, data: r.data.map((v, j) => v - delta(j)) } : r));
    // Difference per output element before summing, so large constant outputs (a -3.4e38 fill)
    // cannot swamp the perturbation.
    const up = c.ref(plus).data;
    const down = c.ref(minus).data;
    let total = 0;
    for (let k = 0; k < up.length; k++) if (up[k] !== down[k]) total += (up[k] - down[k]) * w[k];
    return total / 2;
  };
  if (mode === 'full') {
    const numeric = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const h = step * Math.max(1, Math.abs(x[j]));
      numeric[j] = probe((k) => (k === j ? h : 0)) / h;
    }
    expectClose(analytic, numeric, { rtol: 0, atol: rel * maxAbs(numeric) + abs }, `${label}gradient of input ${i} [${c.inputs[i].shape}] vs finite differences`);
  } else {
    for (let d = 0; d < 3; d++) {
      const v = rng.uniform(x.length, -1, 1);
      const h = step * Math.max(1, maxAbs(x));
      const numeric = probe((j) => h * v[j]) / h;
      let predicted = 0;
      let norm = 0;
      for (let j = 0; j < x.length; j++) {
        predicted += analytic[j] * v[j];
        norm += v[j] * v[j];
      }
      const tol = rel * (maxAbs(analytic) * Math.sqrt(norm) * 3 + Math.abs(numeric)) + abs * Math.sqrt(norm);
      if (!(Math.abs(predicted - numeric) <= tol)) {
        throw new Error(`${label}gradient of input ${i} [${c.inputs[i].shape}] along a random direction: <grad, v> = ${fmt(predicted)}, finite differences ${fmt(numeric)} (tol ${fmt(tol)})`);
      }
    }
  }
}

/**
 * Checks op forward against `ref`, then the analytic gradient of every float input (unless
 * grad: false) against central differences of sum(ref(x) * w) for a random cotangent w.
 */
export function checkOp(c: OpCase): OpResult {
  const p = prepare(c);
  expectClose(p.out.toFloat32Array(), p.expected.data, c.forward, `${p.label}forward`);
  if (!p.wantsGrad.some(Boolean)) return { out: p.out, inputs: p.inputs, expected: p.expected };
  const rng = new TestRng(c.seed ?? 12345);
  const w = rng.uniform(p.out.size, -1, 1);
  p.out.backward(tensor(Float32Array.from(w), p.out.shape));
  p.wantsGrad.forEach((wanted, i) => {
    if (!wanted) return;
    const grad = p.inputs[i].grad;
    if (!grad) throw new Error(`${p.label}input ${i} got no gradient`);
    expectShape(grad, c.inputs[i].shape, `${p.label}gradient shape of input ${i}`);
    checkGradient(c, p, i, grad.toFloat32Array(), w, rng);
  });
  return { out: p.out, inputs: p.inputs, expected: p.expected };
}

/**
 * checkOp for backends that read asynchronously (WebGPU): the same checks, the forward values
 * and all gradients read back in one transfer each.
 */
export async function checkOpAsync(c: OpCase): Promise<OpResult> {
  const p = prepare(c);
  expectClose(await p.out.data(), p.expected.data, c.forward, `${p.label}forward`);
  if (!p.wantsGrad.some(Boolean)) return { out: p.out, inputs: p.inputs, expected: p.expected };
  const rng = new TestRng(c.seed ?? 12345);
  const w = rng.uniform(p.out.size, -1, 1);
  p.out.backward(tensor(Float32Array.from(w), p.out.shape));
  const checked = p.wantsGrad.map((wanted, i) => (wanted ? i : -1)).filter((i) => i >= 0);
  const grads = checked.map((i) => {
    const grad = p.inputs[i].grad;
    if (!grad) throw new Error(`${p.label}input ${i} got no gradient`);
    expectShape(grad, c.inputs[i].shape, `${p.label}gradient shape of input ${i}`);
    return grad;
  });
  const values = await readTensors(grads);
  checked.forEach((i, k) => checkGradient(c, p, i, values[k], w, rng));
  return { out: p.out, inputs: p.inputs, expected: p.expected };
}
