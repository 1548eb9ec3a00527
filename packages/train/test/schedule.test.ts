import { describe, expect, it } from 'vitest';
import { learningRateAt, lrMultiplier, validateSchedule } from '../src/index.js';

// Hand-computed from HF get_{linear,cosine,constant}_schedule_with_warmup.
describe('learning-rate schedules', () => {
  const linear = { kind: 'linear' as const, lr: 1e-3, warmupSteps: 10, totalSteps: 100 };
  it.each([
    [0, 0],
    [1, 1e-4],
    [5, 5e-4],
    [10, 1e-3],
    [55, 5e-4],
    [91, 1e-4],
    [100, 0],
    [130, 0],
  ])('linear with warmup: step %i -> %f', (step, lr) => expect(learningRateAt(linear, step)).toBeCloseTo(lr, 15));

  const cosine = { kind: 'cosine' as const, lr: 2e-3, warmupSteps: 10, totalSteps: 110 };
  it.each([
    [0, 0],
    [4, 8e-4],
    [10, 2e-3],
    [35, 2e-3 * 0.5 * (1 + Math.SQRT1_2)],
    [60, 1e-3],
    [85, 2e-3 * 0.5 * (1 - Math.SQRT1_2)],
    [110, 0],
    [200, 0],
  ])('cosine with warmup: step %i -> %f', (step, lr) => expect(learningRateAt(cosine, step)).toBeCloseTo(lr, 15));

  it('constant with warmup ramps then stays', () => {
    const constant = { kind: 'constant' as const, lr: 3e-4, warmupSteps: 4, totalSteps: 50 };
    expect([0, 2, 4, 49, 1000].map((s) => learningRateAt(constant, s))).toEqual([0, 1.5e-4, 3e-4, 3e-4, 3e-4]);
  });

  it('without warmup starts at the peak', () => {
    expect(lrMultiplier({ kind: 'linear', warmupSteps: 0, totalSteps: 4 }, 0)).toBe(1);
    expect(lrMultiplier({ kind: 'linear', warmupSteps: 0, totalSteps: 4 }, 1)).toBe(0.75);
    expect(lrMultiplier({ kind: 'cosine', warmupSteps: 0, totalSteps: 4 }, 2)).toBeCloseTo(0.5, 15);
  });

  it('rejects bad configs and steps, naming the field', () => {
    expect(() => validateSchedule({ kind: 'step' as never, lr: 1, warmupSteps: 0, totalSteps: 1 })).toThrow(/schedule.kind.*'step'/);
    expect(() => validateSchedule({ kind: 'linear', lr: 1, warmupSteps: -1, totalSteps: 1 })).toThrow(/warmupSteps.*-1/);
    expect(() => validateSchedule({ kind: 'linear', lr: 1, warmupSteps: 0, totalSteps: 0 })).toThrow(/totalSteps/);
    expect(() => lrMultiplier({ kind: 'linear', warmupSteps: 0, totalSteps: 4 }, 1.5)).toThrow(/1.5/);
  });
});
