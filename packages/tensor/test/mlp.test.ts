/**
 * "Done when": a tiny MLP (8 -> 16 -> 3, gelu, cross-entropy) trained with plain SGD through the
 * autograd for 50 steps on fixed data: the loss falls substantially, follows a float64 training
 * run with hand-written backprop, and is the same (to 1e-5) on every backend that starts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { onBackend, runnableBackends } from './helpers/backends.js';
import { erf64 } from './helpers/erf.js';
import { TestRng } from './helpers/rng.js';

const N = 64;
const IN = 8;
const HIDDEN = 16;
const OUT = 3;
const STEPS = 50;
const LR = 0.5;

/** Fixed data: labels from a random linear teacher, so the task is learnable. */
function makeProblem() {
  const rng = new TestRng(2024);
  const x = rng.uniform(N * IN, -1, 1);
  const teacher = rng.uniform(IN * OUT, -1, 1);
  const labels = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < OUT; c++) {
      let score = 0;
      for (let i = 0; i < IN; i++) score += x[n * IN + i] * teacher[i * OUT + c];
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    labels[n] = best;
  }
  const init = {
    w1: rng.uniform(IN * HIDDEN, -1 / Math.sqrt(IN), 1 / Math.sqrt(IN)),
    b1: rng.uniform(HIDDEN, -0.1, 0.1),
    w2: rng.uniform(HIDDEN * OUT, -1 / Math.sqrt(HIDDEN), 1 / Math.sqrt(HIDDEN)),
    b2: rng.uniform(OUT, -0.1, 0.1),
  };
  return { x, labels, init };
}

const problem = makeProblem();

/** SGD through the library's autograd on the active backend; returns the loss before each step. */
function trainWithAutograd(): { losses: number[]; w1: Float32Array } {
  const x = T.tensor(Float32Array.from(problem.x), [N, IN]);
  const y = T.tensor(problem.labels);
  const w1 = T.tensor(Float32Array.from(problem.init.w1), [IN, HIDDEN], { requiresGrad: true });
  const b1 = T.tensor(Float32Array.from(problem.init.b1), [HIDDEN], { requiresGrad: true });
  const w2 = T.tensor(Float32Array.from(problem.init.w2), [HIDDEN, OUT], { requiresGrad: true });
  const b2 = T.tensor(Float32Array.from(problem.init.b2), [OUT], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const hidden = T.add(T.matmul(x, w1), b1).gelu();
    const loss = T.crossEntropy(T.add(T.matmul(hidden, w2), b2), y);
    loss.backward();
    losses.push(loss.item());
    T.noGrad(() => {
      for (const p of params) p.assign(T.sub(p, T.scale(p.grad!, LR)));
    });
    for (const p of params) p.zeroGrad();
  }
  return { losses, w1: w1.toFloat32Array() };
}

/** The same training in float64 with backprop written out by hand. */
function trainFloat64(): number[] {
  const { x, labels } = problem;
  const w1 = Float64Array.from(problem.init.w1);
  const b1 = Float64Array.from(problem.init.b1);
  const w2 = Float64Array.from(problem.init.w2);
  const b2 = Float64Array.from(problem.init.b2);
  const pre = new Float64Array(N * HIDDEN);
  const h = new Float64Array(N * HIDDEN);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < HIDDEN; j++) {
        let acc = b1[j];
        for (let i = 0; i < IN; i++) acc += x[n * IN + i] * w1[i * HIDDEN + j];
        pre[n * HIDDEN + j] = acc;
        h[n * HIDDEN + j] = 0.5 * acc * (1 + erf64(acc / Math.SQRT2));
      }
    }
    const dLogits = new Float64Array(N * OUT);
    let loss = 0;
    for (let n = 0; n < N; n++) {
      const logits = new Float64Array(OUT);
      for (let c = 0; c < OUT; c++) {
        let acc = b2[c];
        for (let j = 0; j < HIDDEN; j++) acc += h[n * HIDDEN + j] * w2[j * OUT + c];
        logits[c] = acc;
      }
      const max = Math.max(...logits);
      const total = logits.reduce((s, v) => s + Math.exp(v - max), 0);
      loss += max + Math.log(total) - logits[labels[n]];
      for (let c = 0; c < OUT; c++) dLogits[n * OUT + c] = (Math.exp(logits[c] - max) / total - (c === labels[n] ? 1 : 0)) / N;
    }
    losses.push(loss / N);
    const dW2 = new Float64Array(HIDDEN * OUT);
    const dB2 = new Float64Array(OUT);
    const dPre = new Float64Array(N * HIDDEN);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < OUT; c++) {
        dB2[c] += dLogits[n * OUT + c];
        for (let j = 0; j < HIDDEN; j++) dW2[j * OUT + c] += h[n * HIDDEN + j] * dLogits[n * OUT + c];
      }
      for (let j = 0; j < HIDDEN; j++) {
        let dh = 0;
        for (let c = 0; c < OUT; c++) dh += dLogits[n * OUT + c] * w2[j * OUT + c];
        const v = pre[n * HIDDEN + j];
        const geluPrime = 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
        dPre[n * HIDDEN + j] = dh * geluPrime;
      }
    }
    const dW1 = new Float64Array(IN * HIDDEN);
    const dB1 = new Float64Array(HIDDEN);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < HIDDEN; j++) {
        dB1[j] += dPre[n * HIDDEN + j];
        for (let i = 0; i < IN; i++) dW1[i * HIDDEN + j] += x[n * IN + i] * dPre[n * HIDDEN + j];
      }
    }
    for (const [p, g] of [
      [w1, dW1],
      [b1, dB1],
      [w2, dW2],
      [b2, dB2],
    ] as const) {
      for (let i = 0; i < p.length; i++) p[i] -= LR * g[i];
    }
  }
  return losses;
}

const backends = await runnableBackends();

describe('tiny MLP trained by SGD through the autograd', () => {
  let cpu: ReturnType<typeof trainWithAutograd>;
  beforeAll(() => {
    cpu = onBackend('cpu', trainWithAutograd);
  });

  it('the loss goes down substantially in 50 steps [cpu]', () => {
    const first = cpu.losses[0];
    const last = cpu.losses[STEPS - 1];
    expect(first).toBeGreaterThan(0.9);
    expect(last).toBeLessThan(0.3 * first);
    expect(cpu.losses.every(Number.isFinite)).toBe(true);
  });

  it('follows a float64 run with hand-written backprop to 1e-5, step by step [cpu]', () => {
    const reference = trainFloat64();
    cpu.losses.forEach((loss, step) => {
      if (!(Math.abs(loss - reference[step]) <= 1e-5)) throw new Error(`step ${step}: loss ${loss}, float64 reference ${reference[step]}`);
    });
  });

  for (const name of backends.filter((b) => b !== 'cpu')) {
    it(`reaches the same losses on ${name} as on cpu (to 1e-5)`, () => {
      const other = onBackend(name, trainWithAutograd);
      other.losses.forEach((loss, step) => {
        if (!(Math.abs(loss - cpu.losses[step]) <= 1e-5)) throw new Error(`step ${step}: ${name} loss ${loss}, cpu ${cpu.losses[step]}`);
      });
    });
  }
  if (!backends.includes('gpujs')) it.skip('reaches the same losses on gpujs as on cpu (gpujs backend unavailable)', () => undefined);
});
