/**
 * A resume trusts nothing it reads back: trainer_state.json is checked field by field and against
 * its folder and optimizer file; findLatestCheckpoint says which checkpoint it passed over and why.
 * Every case leaves the checkpoint files as they were.
 */
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLatestCheckpoint, readCheckpoint, type SkippedCheckpoint } from '../src/index.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

const common = { totalSteps: 6, accumulation: 1, checkpointEvery: 2, logEvery: 2, data: { count: 6, batchSize: 2 } };
let source: string;

beforeAll(async () => {
  source = tempDir();
  await runTiny({ ...common, outputDir: source, stopAtStep: 4, keepCheckpoints: 0 });
});

/** A copy of the stopped run with checkpoint-4's trainer_state.json edited. */
function withState(edit: (state: Record<string, any>) => void): { dir: string; statePath: string; text: string } {
  const dir = tempDir();
  cpSync(source, dir, { recursive: true });
  const statePath = join(dir, 'checkpoint-4', 'trainer_state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8'));
  edit(state);
  const text = JSON.stringify(state);
  writeFileSync(statePath, text);
  return { dir, statePath, text };
}

const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir, { recursive: true }).map(String).sort().map((name) => [name, (() => { try { return readFileSync(join(dir, name)).toString('base64'); } catch { return 'dir'; } })()]));

describe('trainer_state.json is validated against the run it resumes', () => {
  it.each([
    ['step beyond totalSteps', (s: any) => (s.step = 999), /field 'step' is 999, expected at most totalSteps \(6\): a run cannot be past its end/],
    ['step of another checkpoint', (s: any) => ((s.step = 2), Object.keys(s.optimizer.steps).forEach((k) => (s.optimizer.steps[k] = 2))), /field 'step' is 2, but the folder is checkpoint-4: the state belongs to another checkpoint/],
    ['string rng state', (s: any) => (s.rng = 'abc'), /field 'rng' is "abc", expected an object/],
    ['string words in a stream', (s: any) => (s.rng.init = { algorithm: 'xoshiro128**', s: ['1', '2', '3', '4'] }), /field 'rng.init' is \{"algorithm":"xoshiro128\*\*","s":\["1","2","3","4"\]\}, expected a generator state/],
    ['an old sfc32 stream', (s: any) => (s.rng.init = [1, 2, 3, 4, null]), /field 'rng.init' is \[1,2,3,4,null\], expected a generator state .*sfc32 generator retro used before @retro\/random/],
    ['missing dataLoader', (s: any) => delete s.dataLoader, /field 'dataLoader' is missing, expected the batch source position/],
    ['negative totalSteps', (s: any) => (s.totalSteps = -1), /field 'totalSteps' is -1, expected an integer >= 0/],
    ['schedule of another length', (s: any) => (s.schedule.totalSteps = 60), /field 'schedule.totalSteps' is 60, expected totalSteps \(6\)/],
    ['unknown schedule kind', (s: any) => (s.schedule.kind = 'step'), /field 'schedule.kind' is "step", expected 'linear', 'cosine' or 'constant'/],
    ['optimizer steps beyond step', (s: any) => (s.optimizer.steps[Object.keys(s.optimizer.steps)[0]] = 40), /field 'optimizer.steps\..*' is 40, expected an integer from 0 to step \(4\)/],
    ['metrics null', (s: any) => (s.metrics = null), /field 'metrics' is null, expected an object/],
    ['top level null', (s: any) => Object.keys(s).forEach((k) => delete s[k]), /field 'format' is missing/],
  ])('%s: resume fails naming the field; nothing on disk changes', async (_name, edit, message) => {
    const { dir, statePath } = withState(edit);
    const before = snapshot(dir);
    expect(() => readCheckpoint(join(dir, 'checkpoint-4'))).toThrow(message);
    expect(() => readCheckpoint(join(dir, 'checkpoint-4'))).toThrow(statePath);
    await expect(runTiny({ ...common, outputDir: dir, resume: join(dir, 'checkpoint-4') })).rejects.toThrow(message);
    expect(snapshot(dir)).toEqual(before);
  });

  it('an optimizer file from another step is caught', () => {
    const dir = tempDir();
    cpSync(source, dir, { recursive: true });
    cpSync(join(dir, 'checkpoint-2', 'optimizer.safetensors'), join(dir, 'checkpoint-4', 'optimizer.safetensors'));
    expect(() => readCheckpoint(join(dir, 'checkpoint-4'))).toThrow(/optimizer.safetensors: metadata step is "2", but trainer_state.json says step 4/);
  });
});

describe('findLatestCheckpoint says what it skipped and why', () => {
  it('a corrupt newest checkpoint is reported, the older one is used', () => {
    const { dir } = withState((s) => (s.step = 999));
    const skipped: SkippedCheckpoint[] = [];
    const found = findLatestCheckpoint(dir, { onSkip: (s) => skipped.push(s) });
    expect(found?.step).toBe(2);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].dir).toBe(join(dir, 'checkpoint-4'));
    expect(skipped[0].reason).toMatch(/field 'step' is 999, expected at most totalSteps/);
  });

  it('resume: true reports the skip on stderr by default and continues from the older checkpoint', async () => {
    const { dir } = withState((s) => (s.rng = 'abc'));
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const resumed = await runTiny({ ...common, outputDir: dir, resume: true });
      expect(resumed.result.resumedFrom).toBe(join(dir, 'checkpoint-2'));
    } finally {
      process.stderr.write = original;
    }
    expect(writes.join('')).toMatch(/train: skipping .*checkpoint-4: .*trainer_state.json: field 'rng' is "abc", expected an object/);
  });

  it('an intact run resumes from its newest checkpoint without any skip', () => {
    const skipped: SkippedCheckpoint[] = [];
    expect(findLatestCheckpoint(source, { onSkip: (s) => skipped.push(s) })?.step).toBe(4);
    expect(skipped).toEqual([]);
  });
});
