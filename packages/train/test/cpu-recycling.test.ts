/**
 * `train` recycles the cpu backend's step temporaries by default (recycleCpuBuffers): the run must
 * be bitwise the run without recycling (losses, gradient norms, parameters), recycling must
 * actually happen, and the caller's setting is restored when `train` returns.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBufferPoolStats, cpuBufferRecycling } from '@retro/tensor';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

// hidden 64 x 4 x 16 tokens: activations of 4,096 floats, well above the pool's 256-element floor.
const common = { totalSteps: 6, accumulation: 2, checkpointEvery: 0, data: { count: 12, batchSize: 4, length: 16 }, modelOptions: { hidden: 64, dropout: 0.2 } };

describe('train with cpu buffer recycling', () => {
  it('equals the run without it bitwise, recycles arrays, and restores the setting', async () => {
    expect(cpuBufferRecycling()).toBe(false);
    const plain = await runTiny({ ...common, outputDir: tempDir(), recycleCpuBuffers: false });
    expect(cpuBufferRecycling()).toBe(false);
    const reusedBefore = cpuBufferPoolStats().reused;
    const recycled = await runTiny({ ...common, outputDir: tempDir() });
    expect(cpuBufferRecycling(), 'train restores the setting it found').toBe(false);
    expect(cpuBufferPoolStats().reused - reusedBefore, 'arrays recycled during the default run').toBeGreaterThan(100);

    expect(recycled.steps.map((s) => s.losses)).toEqual(plain.steps.map((s) => s.losses));
    expect(recycled.steps.map((s) => s.gradNorm)).toEqual(plain.steps.map((s) => s.gradNorm));
    for (const [name, values] of plain.params) expect(recycled.params.get(name), name).toEqual(values);
    // Dropout was on and the model learned: the losses move step to step.
    expect(new Set(plain.steps.map((s) => s.losses.loss)).size).toBe(6);
  });

  it('rejects a recycleCpuBuffers that is not a boolean, naming the option', async () => {
    await expect(runTiny({ ...common, outputDir: tempDir(), recycleCpuBuffers: 'no' as unknown as boolean })).rejects.toThrow(/option 'recycleCpuBuffers' must be true or false, got "no"/);
    expect(cpuBufferRecycling()).toBe(false);
  });
});
