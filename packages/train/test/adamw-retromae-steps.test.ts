import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { cpuBufferPoolStats, scope, setCpuBufferRecycling } from '@retro/tensor';
import { AdamW } from '../src/index.js';
import { fixtureDir, retroMAEFixtureBatch, type Kind } from '../../../test-support/fixtures.js';

/**
 * Three AdamW steps of the full RetroMAE model on the fixture batch, against torch.optim.AdamW
 * run in float64 (../shared/fixtures adamw.json): steps 2 and 3 use gradients recomputed at the
 * updated parameters, so this checks forward, backward and optimizer together. Run as the
 * training loop runs it (forward and backward in one scope, the update in another), with the cpu
 * buffer pool off and on: with it on, every step after the first computes in recycled arrays.
 */

interface AdamwFixture {
  hyperparameters: { lr: number; beta1: number; beta2: number; eps: number; weight_decay: number };
  tracked: Record<string, { shape: number[]; weight_decay: number }>;
  steps: Array<{ step: number; loss_before_step: number; params: Record<string, unknown> }>;
}

const flatten = (value: unknown): number[] => (Array.isArray(value) ? value.flatMap(flatten) : [value as number]);

const cases: Array<[Kind, 'off' | 'on']> = [
  ['bert', 'off'],
  ['bert', 'on'],
  ['roberta', 'off'],
  ['roberta', 'on'],
];

describe.each(cases)('AdamW steps 1-3 of RetroMAEForPretraining vs the %s fixture, cpu buffer recycling %s', (name, recycling) => {
  afterEach(() => setCpuBufferRecycling(false));
  it('matches the loss before each step and every tracked parameter after it', () => {
    setCpuBufferRecycling(recycling === 'on');
    const reusedBefore = cpuBufferPoolStats().reused;
    const fixture = JSON.parse(readFileSync(`${fixtureDir(name)}/adamw.json`, 'utf8')) as AdamwFixture;
    const model = RetroMAEForPretraining.fromPretrained(fixtureDir(name));
    model.eval();
    const batch = retroMAEFixtureBatch(name);
    const h = fixture.hyperparameters;
    const optimizer = new AdamW(model.namedParameters(), { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weight_decay });
    const params = new Map(model.namedParameters());
    for (const [key, spec] of Object.entries(fixture.tracked)) {
      // The HF Trainer rule (no decay on biases and LayerNorm weights) as the fixture applied it.
      expect(optimizer.weightDecayOf(key), key).toBe(spec.weight_decay);
    }
    for (const expected of fixture.steps) {
      model.zeroGrad();
      const lossValue = scope(() => {
        const { loss } = model.forward(batch);
        const value = loss.item();
        loss.backward();
        return value;
      });
      expect(Math.abs(lossValue - expected.loss_before_step) / expected.loss_before_step, `loss before step ${expected.step}`).toBeLessThan(1e-5);
      scope(() => optimizer.step());
      for (const key of Object.keys(fixture.tracked)) {
        const want = flatten(expected.params[key]);
        const got = params.get(key)!.toFloat32Array();
        expect(got.length).toBe(want.length);
        let err = 0;
        let scale = 0;
        for (let i = 0; i < want.length; i++) {
          err = Math.max(err, Math.abs(got[i] - want[i]));
          scale = Math.max(scale, Math.abs(want[i]));
        }
        expect(err, `${key} after step ${expected.step}: max error ${err}`).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
      }
    }
    if (recycling === 'on') expect(cpuBufferPoolStats().reused, 'steps 2 and 3 computed in recycled arrays').toBeGreaterThan(reusedBefore + 50);
  });
});
