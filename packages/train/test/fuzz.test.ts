/**
 * Fuzz suite for trainer_state.json (and the optimizer file beside it): a damaged checkpoint must
 * give a clear error naming the file, or a state that is right for its folder, within a time
 * bound; never a raw TypeError/RangeError (rule and counts: test-support/fuzz.ts).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainerRng, readCheckpoint, type LoadedCheckpoint } from '../src/index.js';
import { Tally, applyJsonMutation, applyMutation, byteMutation, classify, jsonMutation, runs } from '../../../test-support/fuzz.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

const tally = new Tally();
afterAll(() => {
  removeTempDirs();
  console.log(`fuzz outcomes (@retro/train):\n${tally.table()}`);
});

const common = { totalSteps: 6, accumulation: 1, checkpointEvery: 2, logEvery: 2, data: { count: 6, batchSize: 2 } };
let source: string;
let stateText: string;
beforeAll(async () => {
  source = tempDir();
  await runTiny({ ...common, outputDir: source, stopAtStep: 4 });
  stateText = readFileSync(join(source, 'checkpoint-4', 'trainer_state.json'), 'utf8');
});

function expectClean(format: string): void {
  expect(tally.failures.filter((f) => f.startsWith(`${format}:`)), format).toEqual([]);
  const row = tally.counts.get(format)!;
  expect(row['result'] + row['clear-error']).toBeGreaterThan(0);
}

/** A checkpoint read back is right when it is the one its folder names and its generators restore. */
function rightForFolder(loaded: LoadedCheckpoint): boolean | string {
  if (loaded.step !== 4) return `step ${loaded.step} in checkpoint-4`;
  if (!(loaded.state.step <= loaded.state.totalSteps)) return `step ${loaded.state.step} > totalSteps ${loaded.state.totalSteps}`;
  new TrainerRng(0).setState(loaded.state.rng, 'trainer_state.json');
  return true;
}

function damaged(write: (dir: string) => void): string {
  const dir = tempDir();
  cpSync(join(source, 'checkpoint-4'), join(dir, 'checkpoint-4'), { recursive: true });
  write(join(dir, 'checkpoint-4'));
  return join(dir, 'checkpoint-4');
}

describe('trainer_state.json', () => {
  it('wrong types, missing fields, absurd values', async () => {
    const state = JSON.parse(stateText);
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const dir = damaged((d) => writeFileSync(join(d, 'trainer_state.json'), JSON.stringify(applyJsonMutation(state, m)) ?? ''));
        await classify(tally, 'trainer_state.json', ['trainer_state.json'], () => readCheckpoint(dir), rightForFolder);
      }),
      { numRuns: runs(120) },
    );
    expectClean('trainer_state.json');
  });

  it('truncated and byte-flipped text', async () => {
    const bytes = new TextEncoder().encode(stateText);
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const dir = damaged((d) => writeFileSync(join(d, 'trainer_state.json'), applyMutation(bytes, m)));
        await classify(tally, 'trainer_state.json bytes', ['trainer_state.json'], () => readCheckpoint(dir), rightForFolder);
      }),
      { numRuns: runs(50) },
    );
    expectClean('trainer_state.json bytes');
  });

  it('optimizer.safetensors bytes', async () => {
    const bytes = readFileSync(join(source, 'checkpoint-4', 'optimizer.safetensors'));
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const dir = damaged((d) => writeFileSync(join(d, 'optimizer.safetensors'), applyMutation(bytes, m)));
        await classify(tally, 'optimizer.safetensors', ['optimizer.safetensors'], () => readCheckpoint(dir), rightForFolder);
      }),
      { numRuns: runs(40) },
    );
    expectClean('optimizer.safetensors');
  });

  it('a whole resume from a damaged state: clear error or a finished run', async () => {
    const state = JSON.parse(stateText);
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const dir = damaged((d) => writeFileSync(join(d, 'trainer_state.json'), JSON.stringify(applyJsonMutation(state, m)) ?? ''));
        const outputDir = join(dir, '..');
        await classify(
          tally,
          'resume',
          ['trainer_state.json', 'checkpoint-4'],
          () => runTiny({ ...common, outputDir, resume: true }),
          (run) => run.result.step === 6 || `ended at step ${run.result.step}`,
        );
      }),
      { numRuns: runs(15) },
    );
    expectClean('resume');
  });
});
