import { afterAll, describe, expect, it } from 'vitest';
import { Module, mul, sum, tensor, type Tensor } from '@retro/tensor';
import { clipGradNorm, clipScale, globalGradNorm, train, type BatchSource } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

function withGrad(values: number[]): Tensor {
  const p = tensor(new Float32Array(values.length), [values.length], { requiresGrad: true });
  p.grad = tensor(values, [values.length]);
  return p;
}

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  it('returns the global norm over all parameters: sqrt(3^2 + 4^2 + 12^2) = 13', () => {
    const params = [withGrad([3, 4]), withGrad([12])];
    expect(clipGradNorm(params, 100)).toBe(13);
    expect([...params[0].grad!.toFloat32Array(), ...params[1].grad!.toFloat32Array()]).toEqual([3, 4, 12]);
  });

  it('scales every gradient by max_norm / (total + 1e-6) when above the limit', () => {
    const params = [withGrad([3, 4]), withGrad([12])];
    expect(clipGradNorm(params, 6.5)).toBe(13);
    const c = 6.5 / (13 + 1e-6);
    const got = [...params[0].grad!.toFloat32Array(), ...params[1].grad!.toFloat32Array()];
    [3 * c, 4 * c, 12 * c].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 6));
    expect(globalGradNorm(params)).toBeCloseTo(6.5, 5);
  });

  it('also scales (by 5/5.000001) when the norm equals max_norm exactly, as torch does', () => {
    const params = [withGrad([3, 4])];
    clipGradNorm(params, 5);
    const got = params[0].grad!.toFloat32Array();
    expect(got[0]).toBeLessThan(3);
    expect(got[0]).toBeCloseTo((3 * 5) / 5.000001, 6);
  });

  it('ignores parameters without gradients and reports non-finite norms untouched', () => {
    const none = tensor([1, 2], [2], { requiresGrad: true });
    expect(clipGradNorm([none, withGrad([6, 8])], 100)).toBe(10);
    const bad = withGrad([1, Number.NaN]);
    expect(clipGradNorm([bad], 1)).toBeNaN();
    expect(bad.grad!.toFloat32Array()[0]).toBe(1);
    expect(() => clipGradNorm([bad], 0)).toThrow(/maxNorm/);
  });
});

describe('clipping in the training loop (folded into AdamW as gradScale)', () => {
  it('clipScale is the factor clip_grad_norm_ applies: maxNorm / (total + 1e-6) below 1, else 1', () => {
    expect(clipScale(1, 13)).toBe(1 / (13 + 1e-6));
    expect(clipScale(100, 13)).toBe(1);
    expect(clipScale(null, 13)).toBe(1);
    expect(() => clipScale(-1, 13)).toThrow(/maxNorm/);
  });

  // loss = sum(w * t a) at update t: the gradient is t a, norm 13 t for a = [3, -4, 12, 0]; its
  // size changes between updates, so clipping changes AdamW's update (a constant scale would not).
  class Linear extends Module {
    readonly weight: Tensor;
    constructor() {
      super();
      this.weight = this.parameter('proj.weight', tensor([1, 2, 3, 4]));
    }
    losses(batch: { a: number[]; tokens: number }): { loss: Tensor } {
      // batch.a is already t a
      return { loss: sum(mul(this.weight, tensor(batch.a))) };
    }
    savePretrained(): void {}
  }
  const a = [3, -4, 12, 0];
  const batches = (): BatchSource<{ a: number[]; tokens: number }> => {
    let n = 0;
    return { next: () => (n++ < 3 ? { a: a.map((x) => x * n), tokens: 1 } : undefined), state: () => n, restore: (s) => { n = s as number; } };
  };

  for (const clipNorm of [1, 100]) {
    it(`clipNorm ${clipNorm}: the weights after 3 updates are torch's clip_grad_norm_ + AdamW (float64 reference)`, async () => {
      const model = new Linear();
      const norms: number[] = [];
      await train({
        model, batches: batches(), optimizer: { lr: 0.1, weightDecay: 0.01 }, totalSteps: 3, clipNorm,
        schedule: { kind: 'constant', warmupSteps: 0 }, outputDir: tempDir(), seed: 1, progress: false,
        onStep: (s) => { norms.push(s.gradNorm); },
      });
      const reference = (maxNorm: number) => {
        const w = [1, 2, 3, 4];
        const m = [0, 0, 0, 0];
        const v = [0, 0, 0, 0];
        for (let t = 1; t <= 3; t++) {
          const c = Math.min(1, maxNorm / (13 * t + 1e-6));
          for (let i = 0; i < 4; i++) {
            const g = a[i] * t * c;
            w[i] *= 1 - 0.1 * 0.01;
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            w[i] -= (0.1 / (1 - 0.9 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
          }
        }
        return w;
      };
      const w = reference(clipNorm);
      const got = Array.from(model.weight.toFloat32Array());
      got.forEach((value, i) => expect(Math.abs(value - w[i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(w[i]))));
      // the gradient norm reported is the one before clipping
      norms.forEach((n, t) => expect(n).toBeCloseTo(13 * (t + 1), 4));
      // the case is sensitive: with clipping in force the update differs from the unclipped one
      if (clipNorm === 1) expect(Math.max(...w.map((x, i) => Math.abs(x - reference(1e9)[i])))).toBeGreaterThan(1e-3);
    });
  }
});
