/**
 * FusedAttention (ops/attention.ts; cpu kernel src/backends/cpu/attention.ts) against a float64
 * reference written here: per head, softmax(scale q k^T + mask) with the contract's dropout mask
 * (lowbias32 of (seed, flat [B, heads, Lq, Lk] index), stated again in BigInt) times v. Gradients
 * of q, k and v against central finite differences of that reference. Also: multiHeadAttention's
 * fused path equals its unfused path (MatMul -> Softmax -> Dropout -> MatMul), values and
 * gradients, and draws the dropout seed from the generator exactly as the Dropout module does.
 * The cpu kernel runs twice: with its wasm SIMD row kernels and with the plain-JS ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, expectClose } from './helpers/check.js';
import { nd, type Nd } from './helpers/ref.js';
import { TestRng } from './helpers/rng.js';
import { lowbias32Reference } from './helpers/lowbias32.js';

const FINFO_MIN = -3.4028234663852886e38;

function keptScale(p: number, seed: number, index: number): number {
  if (p === 0) return 1;
  const threshold = BigInt(Math.floor(p * 2 ** 32));
  const dropped = lowbias32Reference(lowbias32Reference(BigInt(index)) ^ BigInt(seed)) < threshold;
  return dropped ? 0 : Math.fround(1 / (1 - p));
}

/** float64 attention: q [B, Lq, H], k/v [B, Lk, H], mask [B, 1, R, Lk] (R = 1 or Lq) or none. */
function attentionRef(heads: number, scale: number, p: number, seed: number, withMask: boolean) {
  return (xs: Nd[]): Nd => {
    const [q, k, v, mask] = xs;
    const [B, Lq, H] = q.shape;
    const Lk = k.shape[1];
    const d = H / heads;
    const out = new Array<number>(B * Lq * H).fill(0);
    const rows = withMask ? mask.shape[2] : 1;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < Lq; i++) {
          const s: number[] = [];
          for (let j = 0; j < Lk; j++) {
            let dot = 0;
            for (let c = 0; c < d; c++) dot += q.data[(b * Lq + i) * H + h * d + c] * k.data[(b * Lk + j) * H + h * d + c];
            const m = withMask ? mask.data[(b * rows + (rows === 1 ? 0 : i)) * Lk + j] : 0;
            s.push(Math.max(dot * scale + m, FINFO_MIN));
          }
          const max = Math.max(...s);
          const e = s.map((x) => Math.exp(x - max));
          const total = e.reduce((a, x) => a + x, 0);
          for (let j = 0; j < Lk; j++) {
            const prob = (e[j] / total) * keptScale(p, seed, ((b * heads + h) * Lq + i) * Lk + j);
            for (let c = 0; c < d; c++) out[(b * Lq + i) * H + h * d + c] += prob * v.data[(b * Lk + j) * H + h * d + c];
          }
        }
      }
    }
    return nd([B, Lq, H], out);
  };
}

describe.each(['cpu', 'cpu-js', 'gpujs'])('fusedAttention on %s vs a float64 reference, gradients vs finite differences', (backend) => {
  beforeAll(() => {
    // gpujs in its 'cpu' mode: the kernels composed there, run without a GPU.
    if (backend === 'gpujs') T.registerGpujsBackend({ mode: 'cpu' });
    // cpu-js: the cpu kernel's plain-JS row kernels (hosts without wasm SIMD).
    if (backend === 'cpu-js') T.setCpuKernelPath('js');
    T.setBackend(backend === 'cpu-js' ? 'cpu' : backend);
  });
  afterAll(() => {
    T.setCpuKernelPath('auto');
    T.setBackend('cpu');
  });
  const B = 2;
  const Lq = 5;
  const Lk = 7;
  const H = 6;
  const heads = 2;
  const scale = 1 / Math.sqrt(H / heads);
  const cases: Array<{ label: string; maskRows: 0 | 1 | 5; p: number }> = [
    { label: 'no mask, no dropout', maskRows: 0, p: 0 },
    { label: 'padding mask [B,1,1,Lk], dropout 0.25', maskRows: 1, p: 0.25 },
    { label: "per-row mask M [B,1,Lq,Lk] (the decoder's), dropout 0.25", maskRows: 5, p: 0.25 },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const rng = new TestRng(3 + c.maskRows);
      const seed = 987654321;
      const inputs = [
        { shape: [B, Lq, H], data: rng.uniform(B * Lq * H, -1, 1) },
        { shape: [B, Lk, H], data: rng.uniform(B * Lk * H, -1, 1) },
        { shape: [B, Lk, H], data: rng.uniform(B * Lk * H, -1, 1) },
      ];
      if (c.maskRows) {
        // Key 0 always visible (as RetroMAE's M keeps position 0), the rest hidden at random.
        const data = Array.from({ length: B * c.maskRows * Lk }, (_, i) => (i % Lk === 0 || rng.next() < 0.5 ? 0 : FINFO_MIN));
        inputs.push({ shape: [B, 1, c.maskRows, Lk], data, grad: false } as never);
      }
      checkOp({
        label: c.label,
        inputs,
        run: ([q, k, v, mask]) => T.fusedAttention(q, k, v, { heads, mask, scale, dropout: c.p ? { p: c.p, seed } : undefined }),
        ref: attentionRef(heads, scale, c.p, seed, c.maskRows > 0),
        fd: 'full',
      });
    });
  }

  it.runIf(backend === 'cpu')('rejects a mask that is not [B, 1, 1, Lk] or [B, 1, Lq, Lk], naming the shapes', () => {
    const q = T.zeros([B, Lq, H]);
    const k = T.zeros([B, Lk, H]);
    expect(() => T.fusedAttention(q, k, k, { heads, mask: T.zeros([B, 2, Lq, Lk]) })).toThrow(/mask \[2,2,5,7\]/);
  });
});

describe('multiHeadAttention: the fused path equals the unfused one', () => {
  beforeAll(() => T.setBackend('cpu'));
  for (const [label, maskShape] of [
    ['padding mask', [3, 1, 1, 64]],
    ['per-row mask M', [3, 1, 64, 64]],
  ] as const) {
    it(`${label}, dropout 0.1, 4 heads: outputs and gradients`, () => {
      const rng = new TestRng(11);
      const size = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);
      const qData = Float32Array.from(rng.uniform(3 * 64 * 32, -1, 1));
      const kData = Float32Array.from(rng.uniform(3 * 64 * 32, -1, 1));
      const vData = Float32Array.from(rng.uniform(3 * 64 * 32, -1, 1));
      const mask = T.tensor(Float32Array.from({ length: size(maskShape) }, (_, i) => (i % 64 === 0 || rng.next() < 0.6 ? 0 : FINFO_MIN)), [...maskShape]);
      const w = T.tensor(Float32Array.from(rng.uniform(3 * 64 * 32, -1, 1)), [3, 64, 32]);
      const run = (fused: boolean) => {
        const q = T.tensor(qData.slice(), [3, 64, 32], { requiresGrad: true });
        const k = T.tensor(kData.slice(), [3, 64, 32], { requiresGrad: true });
        const v = T.tensor(vData.slice(), [3, 64, 32], { requiresGrad: true });
        const drop = new T.Dropout(0.1, () => generator);
        const generator = new T.Generator(5);
        drop.train();
        const out = T.multiHeadAttention(q, k, v, fused ? { heads: 4, mask, probabilityDropout: drop } : { heads: 4, mask, dropProbabilities: (p) => drop.forward(p) });
        out.backward(w);
        return { out: out.toFloat32Array(), grads: [q, k, v].map((t) => t.grad!.toFloat32Array()), next: generator.nextUint32() };
      };
      const fused = run(true);
      const unfused = run(false);
      expect(fused.next, 'the generator advanced as with Dropout.forward').toBe(unfused.next);
      expectClose(fused.out, unfused.out, { rtol: 1e-5, atol: 1e-6 }, 'output');
      fused.grads.forEach((g, i) => expectClose(g, unfused.grads[i], { rtol: 1e-4, atol: 1e-6 }, `gradient ${'qkv'[i]}`));
    });
  }
});
