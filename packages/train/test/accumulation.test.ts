import { afterAll, describe, expect, it } from 'vitest';
import { Module, matmul, mean, sub, tensor, type Tensor } from '@retro/tensor';
import { train, type BatchSource, type StepInfo } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

/** y = x W^T, loss = mean((y - target)^2) over every element: a mean loss, as the MLM losses are. */
class Regression extends Module {
  readonly weight: Tensor;
  constructor() {
    super();
    this.weight = this.parameter('proj.weight', tensor([[0.5, -0.25, 0.1], [0.3, 0.2, -0.4]]));
  }
  losses(batch: { x: number[][]; y: number[][]; tokens: number }): { loss: Tensor } {
    const diff = sub(matmul(tensor(batch.x), this.weight, { transB: true }), tensor(batch.y));
    return { loss: mean(diff.mul(diff)) };
  }
  savePretrained(): void {}
}

const rows = Array.from({ length: 8 }, (_, i) => ({ x: [i % 3, 1 - i / 4, (i * i) % 5], y: [i / 3, 2 - i / 5] }));

function source(batchSize: number): BatchSource<{ x: number[][]; y: number[][]; tokens: number }> {
  let position = 0;
  return {
    next: () => {
      if (position >= rows.length) return undefined;
      const slice = rows.slice(position, position + batchSize);
      position += batchSize;
      return { x: slice.map((r) => r.x), y: slice.map((r) => r.y), tokens: slice.length };
    },
    state: () => position,
    restore: (s) => { position = s as number; },
  };
}

async function run(batchSize: number, accumulation: number): Promise<{ steps: StepInfo[]; weight: Float32Array }> {
  const model = new Regression();
  const steps: StepInfo[] = [];
  await train({
    model, batches: source(batchSize), optimizer: { lr: 0.05, weightDecay: 0.01 }, totalSteps: 4, accumulation,
    clipNorm: 0.5, outputDir: tempDir(), seed: 3, progress: false, onStep: (s) => { steps.push(s); },
  });
  return { steps, weight: model.weight.toFloat32Array() };
}

describe('gradient accumulation', () => {
  it('2 micro-batches of 1 give the same updates as 1 batch of 2 (mean loss)', async () => {
    const accumulated = await run(1, 2);
    const whole = await run(2, 1);
    expect(accumulated.steps).toHaveLength(4);
    accumulated.steps.forEach((s, i) => {
      expect(s.losses.loss).toBeCloseTo(whole.steps[i].losses.loss, 6);
      expect(s.gradNorm).toBeCloseTo(whole.steps[i].gradNorm, 5);
    });
    accumulated.weight.forEach((w, i) => expect(w).toBeCloseTo(whole.weight[i], 6));
    // And both differ from no accumulation with batch 1 (4 updates over 4 rows, not 8).
    const single = await run(1, 1);
    expect(Math.abs(single.weight[0] - whole.weight[0])).toBeGreaterThan(1e-4);
  });

  it('stops without a partial update when the data runs out mid-accumulation', async () => {
    const model = new Regression();
    const result = await train({
      model, batches: source(3), optimizer: { lr: 0.05 }, totalSteps: 10, accumulation: 2, outputDir: tempDir(), seed: 3, progress: false,
    });
    // 8 rows in batches of 3 -> 3 batches -> one full update; the third batch is dropped.
    expect(result).toMatchObject({ step: 1, stoppedBecause: 'dataExhausted' });
  });
});
