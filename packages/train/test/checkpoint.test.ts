import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLatestCheckpoint, readLatestPointer } from '../src/index.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';
import { readF32Safetensors } from './helpers/safetensors-reference.js';

afterAll(removeTempDirs);

const base = { totalSteps: 6, accumulation: 1, checkpointEvery: 2, logEvery: 2 };

describe('checkpoints', () => {
  it('hold the model files, the tokenizer, optimizer moments per parameter and trainer_state.json', async () => {
    const dir = tempDir();
    const vocab = join(tempDir(), 'vocab.txt');
    writeFileSync(vocab, '[PAD]\n[UNK]\n');
    const run = await runTiny({ ...base, outputDir: dir, keepCheckpoints: 0, tokenizerFiles: [vocab], config: { note: 'tiny' } });
    const ckpt = join(dir, 'checkpoint-4');
    expect(readdirSync(ckpt).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'vocab.txt']);
    expect(readFileSync(join(ckpt, 'vocab.txt'), 'utf8')).toBe('[PAD]\n[UNK]\n');

    const names = run.model.namedParameters().map(([name]) => name);
    const moments = readF32Safetensors(join(ckpt, 'optimizer.safetensors'));
    expect([...moments.keys()].sort()).toEqual(names.flatMap((n) => [`exp_avg.${n}`, `exp_avg_sq.${n}`]).sort());
    const weights = readF32Safetensors(join(ckpt, 'model.safetensors'));
    expect([...weights.keys()].sort()).toEqual([...names].sort());

    const state = JSON.parse(readFileSync(join(ckpt, 'trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 4, totalSteps: 6, batchesConsumed: 4, schedule: { kind: 'linear', warmupSteps: 2 }, config: { note: 'tiny', seed: 7 } });
    expect(Object.keys(state.rng).sort()).toEqual(['data', 'dropout', 'init', 'masks']);
    expect(state.dataLoader).toMatchObject({ served: 4 });
    expect(state.optimizer.steps).toEqual(Object.fromEntries(names.map((n) => [n, 4])));
    expect(readLatestPointer(dir)).toBe('checkpoint-6');
  });

  it('keep the newest K and nothing else', async () => {
    const dir = tempDir();
    await runTiny({ ...base, totalSteps: 10, outputDir: dir, keepCheckpoints: 2 });
    const entries = readdirSync(dir).sort();
    expect(entries).toEqual(['checkpoint-10', 'checkpoint-8', 'latest', 'loss.svg', 'metrics.jsonl']);
    expect(readLatestPointer(dir)).toBe('checkpoint-10');
  });

  it('a crash between the temp write and the rename leaves the previous checkpoint intact and latest on it', async () => {
    const dir = tempDir();
    await runTiny({ ...base, totalSteps: 6, stopAtStep: 4, outputDir: dir, keepCheckpoints: 1 });
    const before = readFileSync(join(dir, 'checkpoint-4', 'model.safetensors'));
    const crash = new Error('simulated crash before rename');
    await expect(
      runTiny({ ...base, totalSteps: 6, outputDir: dir, keepCheckpoints: 1, resume: true, hooks: { beforeRename: () => { throw crash; } } }),
    ).rejects.toBe(crash);
    // The complete temporary directory was left behind, unpublished.
    expect(readdirSync(dir).filter((n) => n.startsWith('checkpoint-6.tmp-'))).toHaveLength(1);
    expect(existsSync(join(dir, 'checkpoint-6'))).toBe(false);
    expect(readLatestPointer(dir)).toBe('checkpoint-4');
    expect(readFileSync(join(dir, 'checkpoint-4', 'model.safetensors'))).toEqual(before);
    expect(findLatestCheckpoint(dir)?.step).toBe(4);

    // The next resume starts from step 4, cleans the leftover and finishes.
    const resumed = await runTiny({ ...base, totalSteps: 6, outputDir: dir, keepCheckpoints: 1, resume: true });
    expect(resumed.steps.map((s) => s.step)).toEqual([5, 6]);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-6', 'latest', 'loss.svg', 'metrics.jsonl']);
  });

  it('a newer complete checkpoint wins over a stale latest pointer', async () => {
    const dir = tempDir();
    await runTiny({ ...base, totalSteps: 6, outputDir: dir, keepCheckpoints: 0 });
    writeFileSync(join(dir, 'latest'), 'checkpoint-2\n');
    expect(findLatestCheckpoint(dir)?.step).toBe(6);
    // A directory under a checkpoint name without a parsable trainer_state.json is skipped.
    writeFileSync(join(dir, 'checkpoint-6', 'trainer_state.json'), '{ truncated');
    expect(findLatestCheckpoint(dir)?.step).toBe(4);
  });

  it('a fresh run refuses a directory that holds checkpoints unless told to overwrite', async () => {
    const dir = tempDir();
    await runTiny({ ...base, totalSteps: 2, outputDir: dir });
    await expect(runTiny({ ...base, totalSteps: 2, outputDir: dir })).rejects.toThrow(/already holds checkpoint-2.*resume.*overwriteOutputDir/);
    const again = await runTiny({ ...base, totalSteps: 2, outputDir: dir, overwriteOutputDir: true, seed: 8 });
    expect(again.steps).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint-2', 'trainer_state.json'), 'utf8')).config.seed).toBe(8);
  });
});
