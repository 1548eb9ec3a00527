import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMetrics } from '../src/index.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

const common = {
  totalSteps: 10,
  accumulation: 2,
  checkpointEvery: 5,
  logEvery: 3,
  // 7 sequences in batches of 2: epochs end mid-step, so the data order is reshuffled across the resume point.
  data: { count: 7, batchSize: 2 },
  modelOptions: { dropout: 0.2 },
};

function lossesOf(dir: string): Array<Record<string, number>> {
  return parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).map(({ tokensPerSecond: _t, elapsed: _e, ...rest }) => rest as Record<string, number>);
}

describe('resume', () => {
  it('N steps, then new objects resumed for N more, equals 2N straight: losses and parameters bitwise', async () => {
    const straightDir = tempDir();
    const straight = await runTiny({ ...common, outputDir: straightDir });
    expect(straight.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const splitDir = tempDir();
    const first = await runTiny({ ...common, outputDir: splitDir, stopAtStep: 5 });
    expect(first.result.stoppedBecause).toBe('stopAtStep');
    const second = await runTiny({ ...common, outputDir: splitDir, resume: true });
    expect(second.result.resumedFrom).toBe(join(splitDir, 'checkpoint-5'));
    expect(second.steps.map((s) => s.step)).toEqual([6, 7, 8, 9, 10]);

    const split = [...first.steps, ...second.steps];
    // Bitwise: toEqual on numbers is Object.is, so even the last bit must agree.
    expect(split.map((s) => s.losses)).toEqual(straight.steps.map((s) => s.losses));
    expect(split.map((s) => s.gradNorm)).toEqual(straight.steps.map((s) => s.gradNorm));
    expect(split.map((s) => s.lr)).toEqual(straight.steps.map((s) => s.lr));
    for (const [name, values] of straight.params) expect(second.params.get(name), name).toEqual(values);
    // The run actually learned something and dropout was on (losses differ step to step).
    expect(new Set(straight.steps.map((s) => s.losses.loss)).size).toBe(10);

    // Same optimizer state and the same metrics lines (window means carried across the resume).
    expect(readFileSync(join(splitDir, 'checkpoint-10', 'optimizer.safetensors'))).toEqual(readFileSync(join(straightDir, 'checkpoint-10', 'optimizer.safetensors')));
    expect(lossesOf(splitDir)).toEqual(lossesOf(straightDir));
  });

  it('refuses to resume with a different trajectory (totalSteps), naming both values', async () => {
    const dir = tempDir();
    await runTiny({ ...common, outputDir: dir, stopAtStep: 5 });
    await expect(runTiny({ ...common, totalSteps: 12, outputDir: dir, resume: true })).rejects.toThrow(/totalSteps is 12 but the checkpoint was made with 10; pass extend/);
    await expect(runTiny({ ...common, optimizer: { lr: 0.01 }, outputDir: dir, resume: true })).rejects.toThrow(/optimizer.lr is 0.01 but the checkpoint was made with 0.05/);
  });

  it('extend continues a finished run under a new totalSteps, with the schedule recomputed and stated', async () => {
    const dir = tempDir();
    const finished = await runTiny({ ...common, totalSteps: 6, outputDir: dir });
    expect(finished.result).toMatchObject({ step: 6, stoppedBecause: 'totalSteps' });
    let said = '';
    const extended = await runTiny({ ...common, totalSteps: 10, outputDir: dir, resume: true, extend: true, progress: { stream: { write: (t: string) => (said += t) } } });
    expect(extended.steps.map((s) => s.step)).toEqual([7, 8, 9, 10]);
    // runTiny: peak lr 0.05, linear, warmup 2 (kept). Old schedule at step 6 of 6: 0; new: 0.05 (10 - 6) / (10 - 2).
    expect(extended.result.extended).toEqual({ atStep: 6, fromTotalSteps: 6, toTotalSteps: 10, fromWarmupSteps: 2, toWarmupSteps: 2, lrBefore: 0, lrAfter: 0.025 });
    expect(extended.steps.map((s) => s.lr)).toEqual([0.025, 0.01875, 0.0125, 0.00625].map((x) => expect.closeTo(x, 12)));
    expect(said).toMatch(/extending the run at step 6 from 6 to 10 steps: the linear schedule \(peak lr 0.05, warmup 2 kept\) is recomputed for 10 steps; the next update's lr is 0.02500/);
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint-10', 'trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 10, totalSteps: 10, schedule: { totalSteps: 10, warmupSteps: 2 }, config: { totalSteps: 10, scheduleChanges: [{ atStep: 6, fromTotalSteps: 6, toTotalSteps: 10 }] } });
    // The metrics file reads as one run: 6 steps, then 4 more.
    expect(parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).map((r) => r.step)).toEqual([3, 6, 9, 10]);
    await expect(runTiny({ ...common, totalSteps: 10, outputDir: dir, resume: true, extend: true })).resolves.toMatchObject({ steps: [] });
    await expect(runTiny({ ...common, totalSteps: 8, outputDir: dir, resume: true, extend: true })).rejects.toThrow(/cannot extend .*checkpoint-10 to totalSteps 8: the checkpoint is already at step 10/);
  });

  it('resume with no checkpoint starts from step 0', async () => {
    const run = await runTiny({ ...common, totalSteps: 2, outputDir: tempDir(), resume: true });
    expect(run.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(run.result.resumedFrom).toBeUndefined();
  });
});
