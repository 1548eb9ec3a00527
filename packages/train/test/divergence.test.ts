import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Module, sqrt, tensor, type Tensor } from '@retro/tensor';
import { TrainingDivergedError, train, readLatestPointer } from '../src/index.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

describe('NaN/Inf detection', () => {
  it('a NaN loss stops the run with step and batch index, leaving the last checkpoint untouched', async () => {
    const dir = tempDir();
    // accumulation 2: batches 0..5 make steps 1..3; batch 7 is micro-batch 1 of step 4.
    const options = { totalSteps: 6, accumulation: 2, checkpointEvery: 2, keepCheckpoints: 3, outputDir: dir, data: { poisonAt: 7 } };
    const error = await runTiny(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as TrainingDivergedError).report).toEqual({ step: 4, microBatch: 1, batchIndex: 7, quantity: 'loss', name: 'loss', value: Number.NaN });
    expect((error as Error).message).toMatch(/step 4, micro-batch 1 \(batch #7\)/);
    expect(readdirSync(dir).filter((n) => n.startsWith('checkpoint-'))).toEqual(['checkpoint-2']);
    expect(readLatestPointer(dir)).toBe('checkpoint-2');
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint-2', 'trainer_state.json'), 'utf8'));
    expect(state.step).toBe(2);
  });

  it('an infinite gradient with a finite loss is caught and names the parameter', async () => {
    class SqrtModel extends Module {
      readonly w: Tensor;
      constructor() {
        super();
        this.w = this.parameter('w', tensor([0, 1], [2]));
      }
      losses(): { loss: Tensor } {
        return { loss: sqrt(this.w).sum() }; // d sqrt(w)/dw at w = 0 is +Inf
      }
      savePretrained(): void {}
    }
    const batches = { next: () => ({ tokens: 1 }), state: () => null, restore: () => undefined };
    const error = await train({ model: new SqrtModel(), batches, optimizer: { lr: 0.1 }, totalSteps: 3, outputDir: tempDir(), seed: 1, progress: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as TrainingDivergedError).report).toMatchObject({ step: 1, microBatch: 0, batchIndex: 0, quantity: 'gradient', name: 'w', value: Number.POSITIVE_INFINITY });
  });
});
