/**
 * The cpu backend's non-GEMM kernels run row blocks on the worker pool (src/backends/cpu/parallel):
 * their results must be bit-identical for any thread count, since blocks depend only on the
 * operands' shape. Each kernel runs at 1, 2 and 3 threads on the same inputs (sizes crossing the
 * 16K-element blocks and the 1M-element super-chunks) and the outputs are compared bit for bit;
 * over the whole file, worker threads must have run some of the blocks (else nothing was shared).
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNELS, runKernel, setBackend, setGemmThreads, shutdownGemm, type KernelName, type TensorInfo } from '../src/index.js';
import { gemmReady } from '../src/backends/cpu/gemm/index.js';
import { rowJobLastRun } from '../src/backends/cpu/parallel/row-jobs.js';
import { TestRng } from './helpers/rng.js';

type Host = Float32Array | Int32Array;
const info = (data: Host, shape: readonly number[]): TensorInfo => ({
  storage: data,
  shape: [...shape],
  dtype: data instanceof Int32Array ? 'int32' : 'float32',
  backend: 'cpu',
});
const floats = (n: number, rng: TestRng, scale = 3): Float32Array => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

let workerBlocks = 0;

/** Runs the kernel at `threads` threads on copies of the inputs (AdamW works in place); all outputs, in-place operands included. */
function runAt(threads: number, name: KernelName, inputs: Host[], shapes: number[][], attrs: Record<string, unknown>): Host[] {
  setGemmThreads(threads);
  const copies = inputs.map((x) => x.slice());
  const outs = runKernel(name, copies.map((x, i) => info(x, shapes[i])), attrs).map((o) => o.storage as Host);
  const last = rowJobLastRun();
  if (last.threads > 1) workerBlocks += last.blocks - last.callerBlocks;
  return [...outs, ...copies];
}

function expectSameBits(a: Host[], b: Host[], what: string): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((x, i) => {
    const xb = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const yb = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    const first = xb.findIndex((v, k) => v !== yb[k]);
    expect(first, `${what}: output ${i} differs first at ${first} (${x[first]} vs ${b[i][first]})`).toBe(-1);
  });
}

beforeAll(async () => {
  setBackend('cpu');
  setGemmThreads(3);
  await gemmReady();
});
afterAll(() => {
  setGemmThreads(availableParallelism());
  shutdownGemm();
});

describe('non-GEMM kernels: bit-identical at 1, 2 and 3 threads', () => {
  const rng = new TestRng(7);
  const L = 128;
  const cases: Array<{ name: KernelName; inputs: Host[]; shapes: number[][]; attrs?: Record<string, unknown> }> = [];
  const big = (1 << 20) + 4099;
  const x = floats(big, rng);
  cases.push({ name: KERNELS.Gelu, inputs: [x], shapes: [[big]] });
  cases.push({ name: KERNELS.GeluGrad, inputs: [x, floats(big, rng)], shapes: [[big], [big]] });
  cases.push({ name: KERNELS.Dropout, inputs: [x], shapes: [[big]], attrs: { p: 0.1, seed: 12345 } });
  cases.push({ name: KERNELS.Add, inputs: [x, floats(big, rng)], shapes: [[big], [big]] });
  cases.push({ name: KERNELS.AddInPlace, inputs: [x, floats(big, rng)], shapes: [[big], [big]] });
  cases.push({ name: KERNELS.Add, inputs: [floats(1500 * 768, rng), floats(768, rng)], shapes: [[1500, 768], [768]] });
  const scores = floats(4 * 12 * L * L, rng, 8);
  const padding = Float32Array.from({ length: 4 * L }, (_, i) => (i % L > 100 + (i >> 7) ? -3.4028234663852886e38 : 0));
  cases.push({ name: KERNELS.Softmax, inputs: [scores, padding], shapes: [[4, 12, L, L], [4, 1, 1, L]] });
  const m = Float32Array.from({ length: 4 * L * L }, () => (rng.next() < 0.5 ? -3.4028234663852886e38 : 0));
  cases.push({ name: KERNELS.Softmax, inputs: [scores, m], shapes: [[4, 12, L, L], [4, 1, L, L]] });
  const probs = runKernel(KERNELS.Softmax, [info(scores, [4, 12, L, L])])[0].storage as Float32Array;
  cases.push({ name: KERNELS.SoftmaxGrad, inputs: [probs, floats(probs.length, rng)], shapes: [[4, 12, L, L], [4, 12, L, L]] });
  const rows = 1500;
  const hidden = 768;
  const h = floats(rows * hidden, rng);
  const gamma = floats(hidden, rng, 1);
  const beta = floats(hidden, rng, 1);
  cases.push({ name: KERNELS.LayerNorm, inputs: [h, gamma, beta], shapes: [[rows, hidden], [hidden], [hidden]], attrs: { eps: 1e-12 } });
  const [, mean, rstd] = runKernel(KERNELS.LayerNorm, [info(h, [rows, hidden]), info(gamma, [hidden]), info(beta, [hidden])], { eps: 1e-12 }).map((o) => o.storage as Float32Array);
  cases.push({
    name: KERNELS.LayerNormGrad,
    inputs: [floats(rows * hidden, rng), h, gamma, mean, rstd],
    shapes: [[rows, hidden], [rows, hidden], [hidden], [rows], [rows]],
  });
  const classes = 8000;
  const n = 300;
  const logits = floats(n * classes, rng, 8);
  const labels = Int32Array.from({ length: n }, () => (rng.next() < 0.3 ? -100 : Math.floor(rng.next() * classes)));
  cases.push({ name: KERNELS.CrossEntropy, inputs: [logits, labels], shapes: [[n, classes], [n]], attrs: { ignoreIndex: -100 } });
  const [, lse] = runKernel(KERNELS.CrossEntropy, [info(logits, [n, classes]), info(labels, [n])], { ignoreIndex: -100 }).map((o) => o.storage as Float32Array);
  cases.push({
    name: KERNELS.CrossEntropyGrad,
    inputs: [logits, labels, lse, new Float32Array([1.5])],
    shapes: [[n, classes], [n], [n], []],
    attrs: { ignoreIndex: -100 },
  });
  const p = big;
  cases.push({
    name: KERNELS.AdamW,
    inputs: [floats(p, rng), floats(p, rng), floats(p, rng, 0.1), Float32Array.from(floats(p, rng, 0.01), Math.abs)],
    shapes: [[p], [p], [p], [p]],
    attrs: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, step: 3 },
  });

  for (const c of cases) {
    it(`${c.name} ${c.shapes.map((s) => `[${s.join(',')}]`).join(' ')}`, () => {
      const one = runAt(1, c.name, c.inputs, c.shapes, c.attrs ?? {});
      for (const threads of [2, 3]) expectSameBits(runAt(threads, c.name, c.inputs, c.shapes, c.attrs ?? {}), one, `${c.name} at ${threads} threads vs 1`);
    });
  }

  it('worker threads ran some of the blocks', () => {
    expect(workerBlocks).toBeGreaterThan(0);
  });
});
