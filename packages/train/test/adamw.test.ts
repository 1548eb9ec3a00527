import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Generator, tensor, type Tensor } from '@retro/tensor';
import { AdamW, hfNoDecay } from '../src/index.js';
import { readF32Safetensors } from './helpers/safetensors-reference.js';

const fixture = (model: string, file: string): string => fileURLToPath(new URL(`../../../test-fixtures/retromae/${model}/${file}`, import.meta.url));

interface AdamwFixture {
  hyperparameters: { lr: number; beta1: number; beta2: number; eps: number; weight_decay: number };
  tracked: Record<string, { shape: number[]; weight_decay: number }>;
  steps: Array<{ step: number; params: Record<string, unknown> }>;
}

function flatten(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value as number];
}

describe.each(['bert', 'roberta'])('AdamW step 1 vs the %s fixture (torch.optim.AdamW, float64)', (name) => {
  const adamw = JSON.parse(readFileSync(fixture(name, 'adamw.json'), 'utf8')) as AdamwFixture;
  const weights = readF32Safetensors(fixture(name, 'model.safetensors'));
  const expected = readF32Safetensors(fixture(name, 'expected.safetensors'));

  it('updates every tracked parameter to within 1e-6 of the fixture', () => {
    const named: Array<[string, Tensor]> = [...weights].map(([key, w]) => {
      const param = tensor(Float32Array.from(w.data), w.shape, { requiresGrad: true });
      const grad = expected.get(`grad.${key}`);
      if (!grad) throw new Error(`fixture has no grad.${key}`);
      param.grad = tensor(Float32Array.from(grad.data), grad.shape);
      return [key, param];
    });
    const h = adamw.hyperparameters;
    const optimizer = new AdamW(named, { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weight_decay });
    optimizer.step();
    const params = new Map(named);
    const step1 = adamw.steps.find((s) => s.step === 1)!;
    const trackedNames = Object.keys(adamw.tracked);
    expect(trackedNames.length).toBeGreaterThanOrEqual(10);
    for (const key of trackedNames) {
      const want = flatten(step1.params[key]);
      const got = params.get(key)!.toFloat32Array();
      expect(got.length, key).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `${key}: max |got - expected|`).toBeLessThanOrEqual(1e-6);
      // The update must actually have moved the parameter (so the test cannot pass by doing nothing).
      const before = weights.get(key)!.data;
      expect(before.some((x, i) => Math.abs(x - want[i]) > 1e-5), `${key} moved`).toBe(true);
    }
  });

  it('assigns weight decay by the HF rule the fixture used', () => {
    const named: Array<[string, Tensor]> = [...weights].map(([key, w]) => [key, tensor(Float32Array.from(w.data), w.shape, { requiresGrad: true })]);
    const optimizer = new AdamW(named, { lr: 1e-3, weightDecay: 0.01 });
    for (const [key, info] of Object.entries(adamw.tracked)) expect(optimizer.weightDecayOf(key), key).toBe(info.weight_decay);
    // c_head norms are exempt, c_head weights are not.
    expect(optimizer.weightDecayOf('c_head.attention_layer_norm.weight')).toBe(0);
    expect(optimizer.weightDecayOf('c_head.intermediate.weight')).toBe(0.01);
  });
});

describe('AdamW against a float64 loop', () => {
  /** Reference written from the torch docs, in float64. */
  function referenceSteps(p0: number[], grads: number[][], lr: number[], wd: number): number[] {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const p = [...p0];
    const m = p.map(() => 0);
    const v = p.map(() => 0);
    grads.forEach((g, index) => {
      const t = index + 1;
      for (let i = 0; i < p.length; i++) {
        p[i] *= 1 - lr[index] * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (lr[index] / (1 - b1 ** t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    });
    return p;
  }

  it('matches over 5 steps with changing lr, gradients and bias correction', () => {
    const generator = new Generator(3);
    const p0 = Array.from({ length: 12 }, () => generator.normal());
    const grads = Array.from({ length: 5 }, () => Array.from({ length: 12 }, () => Math.fround(generator.normal() * 0.1)));
    const lrs = [1e-3, 2e-3, 5e-3, 1e-2, 4e-3];
    const weight = tensor(Float32Array.from(p0), [3, 4], { requiresGrad: true });
    const optimizer = new AdamW([['w', weight]], { lr: 1, weightDecay: 0.1 });
    grads.forEach((g, i) => {
      weight.grad = tensor(Float32Array.from(g), [3, 4]);
      optimizer.step(lrs[i]);
    });
    const want = referenceSteps(p0.map(Math.fround), grads, lrs, 0.1);
    const got = weight.toFloat32Array();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[i])));
  });

  it('skips parameters without a gradient, leaving their step count alone (PyTorch)', () => {
    const a = tensor([1, 2], [2], { requiresGrad: true });
    const b = tensor([3, 4], [2], { requiresGrad: true });
    const optimizer = new AdamW([['a', a], ['b', b]], { lr: 0.1 });
    a.grad = tensor([1, 1], [2]);
    optimizer.step();
    expect([...b.toFloat32Array()]).toEqual([3, 4]);
    expect(optimizer.stateDict().steps).toEqual({ a: 1 });
  });

  it('continues bit-exactly after stateDict -> loadStateDict into a new optimizer', () => {
    const make = (): Tensor => tensor([0.5, -1.5, 2, 0.25], [2, 2], { requiresGrad: true });
    const grads = [[0.1, -0.2, 0.3, 0.05], [-0.3, 0.1, 0.2, -0.05], [0.2, 0.2, -0.1, 0.4]];
    const straight = make();
    const full = new AdamW([['layer.weight', straight]], { lr: 0.01, weightDecay: 0.01 });
    for (const g of grads) {
      straight.grad = tensor(g, [2, 2]);
      full.step();
    }
    const split = make();
    const first = new AdamW([['layer.weight', split]], { lr: 0.01, weightDecay: 0.01 });
    for (const g of grads.slice(0, 2)) {
      split.grad = tensor(g, [2, 2]);
      first.step();
    }
    const second = new AdamW([['layer.weight', split]], { lr: 0.01, weightDecay: 0.01 });
    second.loadStateDict(first.stateDict());
    split.grad = tensor(grads[2], [2, 2]);
    second.step();
    expect([...split.toFloat32Array()]).toEqual([...straight.toFloat32Array()]);
  });

  it('rejects state for an unknown parameter or of the wrong shape, naming it', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const optimizer = new AdamW([['w', w]], { lr: 0.1 });
    expect(() => optimizer.loadStateDict({ steps: { v: 1 }, tensors: new Map() })).toThrow(/'v'.*not a parameter/);
    expect(() =>
      optimizer.loadStateDict({
        steps: { w: 1 },
        tensors: new Map([
          ['exp_avg.w', { shape: [3], data: new Float32Array(3) }],
          ['exp_avg_sq.w', { shape: [3], data: new Float32Array(3) }],
        ]),
      }),
    ).toThrow(/exp_avg\.w.*\[3\].*\[2\]/);
    // the right shape but truncated data (a damaged file): named, and the state is left as it was
    expect(() =>
      optimizer.loadStateDict(
        {
          steps: { w: 1 },
          tensors: new Map([
            ['exp_avg.w', { shape: [2], data: new Float32Array(1) }],
            ['exp_avg_sq.w', { shape: [2], data: new Float32Array(2) }],
          ]),
        },
        'ckpt/optimizer.safetensors',
      ),
    ).toThrow("AdamW.loadStateDict(ckpt/optimizer.safetensors): 'exp_avg.w' holds 1 values for shape [2] (2 elements)");
    expect(optimizer.stateDict().tensors.size).toBe(0);
  });
});

describe('hfNoDecay', () => {
  it.each([
    ['bert.encoder.layer.0.attention.self.query.bias', true],
    ['bert.embeddings.LayerNorm.weight', true],
    ['lm_head.layer_norm.weight', true],
    ['cls.predictions.bias', true],
    ['bert.embeddings.word_embeddings.weight', false],
    ['c_head.query.weight', false],
  ])('%s -> %s', (name, exempt) => expect(hfNoDecay(name)).toBe(exempt));
});
