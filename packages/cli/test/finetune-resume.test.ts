/**
 * `finetune` (the run under `retro finetune`) through @retro/train's loop: a run killed with SIGKILL and resumed ends with the same
 * weights, losses and dev scores as an uninterrupted one (dropout on, gradient caching on).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findLatestCheckpoint } from '@retro/train';
import { DEV_FILE } from '../src/index.js';
// the tiny model and texts of @retro/finetune's own tests
import { tempDir, texts, tinyModelDir } from '../../../test-support/tiny-bert.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const child = fileURLToPath(new URL('./helpers/finetune-child.ts', import.meta.url));
const TOTAL = 12;

function fixtures(): { model: string; triples: string; dev: string } {
  const dir = tempDir();
  const model = tinyModelDir({ dir: join(dir, 'model'), dropout: 0.1 });
  const q = texts(10, 21);
  const p = texts(10, 22);
  const n = texts(30, 23);
  const triples = join(dir, 'triples.jsonl');
  writeFileSync(triples, q.map((query, i) => JSON.stringify({ query, pos: [p[i]], neg: n.slice(3 * i, 3 * i + 3) })).join('\n') + '\n');
  const dev = join(dir, 'dev.jsonl');
  const a = texts(8, 31);
  const b = texts(8, 32);
  writeFileSync(dev, a.map((s, i) => JSON.stringify({ sentence1: s, sentence2: b[i], score: i % 5 })).join('\n') + '\n');
  return { model, triples, dev };
}

function runChild(args: string[], killAfterStep?: number): Promise<{ steps: Array<{ step: number; loss: number }>; killed: boolean; summary?: { best: number | null; dev: number } }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const steps: Array<{ step: number; loss: number }> = [];
    let summary: { best: number | null; dev: number } | undefined;
    let buffered = '';
    let stderr = '';
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    proc.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (text === 'done') continue;
        const value = JSON.parse(text);
        if ('best' in value) summary = value;
        else {
          steps.push(value);
          if (value.step === killAfterStep) proc.kill('SIGKILL');
        }
      }
    });
    proc.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ steps, killed: true });
      else if (code === 0) resolve({ steps, killed: false, summary });
      else reject(new Error(`finetune child exited with ${code}: ${stderr}`));
    });
  });
}

describe('finetune: kill -9 and resume', () => {
  it('ends bit-identical to an uninterrupted run, dev scores and best checkpoint included', async () => {
    const data = fixtures();
    const referenceDir = tempDir();
    const reference = await runChild([data.model, data.triples, data.dev, referenceDir, String(TOTAL)]);
    expect(reference.steps.map((s) => s.step)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(reference.summary!.dev).toBe(3); // steps 4, 8, 12
    expect(existsSync(join(referenceDir, 'best', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(referenceDir, 'best', 'vocab.txt'))).toBe(true);

    const runDir = tempDir();
    const first = await runChild([data.model, data.triples, data.dev, runDir, String(TOTAL)], 7);
    expect(first.killed).toBe(true);
    // checkpoint-6 exists (every 3 steps); steps 7.. are redone after the resume
    expect(findLatestCheckpoint(runDir)?.state.step).toBe(6);
    const second = await runChild([data.model, data.triples, data.dev, runDir, String(TOTAL), '--resume']);
    expect(second.steps[0].step).toBe(7);
    const losses = [...first.steps.filter((s) => s.step <= 6), ...second.steps];
    expect(losses).toEqual(reference.steps);
    const weights = (dir: string) => readFileSync(join(dir, `checkpoint-${TOTAL}`, 'model.safetensors'));
    expect(weights(runDir).equals(weights(referenceDir))).toBe(true);
    expect(readFileSync(join(runDir, DEV_FILE), 'utf8')).toBe(readFileSync(join(referenceDir, DEV_FILE), 'utf8'));
    expect(readFileSync(join(runDir, 'best', 'model.safetensors')).equals(readFileSync(join(referenceDir, 'best', 'model.safetensors')))).toBe(true);
  });
});
