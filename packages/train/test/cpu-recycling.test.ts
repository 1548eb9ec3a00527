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

  it('gives the next update the gradients zeroGrad freed: no fresh arrays per update once warm', async () => {
    // Clipping reads every gradient for its norm; with dataSync that handed the arrays out and
    // each update made all its gradients afresh (Tensor.readSync keeps them recyclable).
    const freshArrays = async (totalSteps: number): Promise<{ fresh: number; params: number }> => {
      const before = cpuBufferPoolStats().fresh;
      const run = await runTiny({ ...common, totalSteps, outputDir: tempDir() });
      return { fresh: cpuBufferPoolStats().fresh - before, params: run.params.size };
    };
    const two = await freshArrays(2);
    const six = await freshArrays(6);
    const perLaterUpdate = (six.fresh - two.fresh) / 4;
    expect(two.params).toBeGreaterThan(4);
    expect(perLaterUpdate, `fresh arrays per update after the second, with ${two.params} parameters`).toBeLessThan(2);
  });

  it('rejects a recycleCpuBuffers that is not a boolean, naming the option', async () => {
    await expect(runTiny({ ...common, outputDir: tempDir(), recycleCpuBuffers: 'no' as unknown as boolean })).rejects.toThrow(/option 'recycleCpuBuffers' must be true or false, got "no"/);
    expect(cpuBufferRecycling()).toBe(false);
  });
});
