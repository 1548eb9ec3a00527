import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findLatestCheckpoint, parseMetrics } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const child = fileURLToPath(new URL('./helpers/train-child.ts', import.meta.url));
const TOTAL = 30;

interface Line { step: number; losses: Record<string, number> }

/**
 * Runs the child; with `killAfterStep`, sends SIGKILL once that step's line arrives (plus a random
 * few milliseconds, so the kill lands anywhere: mid-step, mid-checkpoint, mid-prune).
 */
function runChild(outputDir: string, resume: boolean, killAfterStep?: number, delayMs = 0): Promise<{ lines: Line[]; killed: boolean; done: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, outputDir, String(TOTAL), ...(resume ? ['--resume'] : [])], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let done = false;
    let buffered = '';
    let stderr = '';
    proc.stderr.on('data', (chunk) => { stderr += chunk; });
    proc.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (text === 'done') { done = true; continue; }
        const line = JSON.parse(text) as Line;
        lines.push(line);
        if (line.step === killAfterStep) setTimeout(() => proc.kill('SIGKILL'), delayMs);
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ lines, killed: true, done });
      else if (code === 0) resolve({ lines, killed: false, done });
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

function metricsWithoutTimes(dir: string): unknown[] {
  return parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).map(({ tokensPerSecond: _t, elapsed: _e, ...rest }) => rest);
}

describe('kill -9 and resume', () => {
  it('a run killed at random points and resumed ends bit-identical to an uninterrupted one', async () => {
    const referenceDir = tempDir('retro-ref-');
    const reference = await runChild(referenceDir, false);
    expect(reference.done).toBe(true);
    expect(reference.lines.map((l) => l.step)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    const lossAt = new Map(reference.lines.map((l) => [l.step, l.losses]));

    const dir = tempDir('retro-killed-');
    const kills = [2 + Math.floor(Math.random() * 10), 14 + Math.floor(Math.random() * 10)];
    const delays = kills.map(() => Math.floor(Math.random() * 4));
    const context = `kills after steps ${kills.join(', ')} with delays ${delays.join(', ')} ms`;
    let resumeFrom = 0;
    let killed = 0;
    for (let round = 0; round <= kills.length; round++) {
      const before = findLatestCheckpoint(dir)?.step ?? 0;
      expect(before, context).toBeGreaterThanOrEqual(resumeFrom);
      const run = await runChild(dir, round > 0, kills[round], delays[round]);
      // Every update any process made (even ones lost to the kill) computed the reference losses.
      for (const line of run.lines) expect(line.losses, `${context}: step ${line.step}`).toEqual(lossAt.get(line.step));
      if (run.lines.length > 0) expect(run.lines[0].step, context).toBe(before + 1);
      if (round < kills.length) {
        // The kill may come after the run already finished on a fast machine; then nothing is left to resume.
        if (!run.killed) break;
        killed++;
      } else {
        expect(run.done, context).toBe(true);
      }
      resumeFrom = before;
    }

    // The first kill comes at step <= 11 of 30, so at least that one lands mid-run.
    expect(killed, context).toBeGreaterThanOrEqual(1);
    const final = join(dir, `checkpoint-${TOTAL}`);
    const referenceFinal = join(referenceDir, `checkpoint-${TOTAL}`);
    expect(readFileSync(join(final, 'model.safetensors')).equals(readFileSync(join(referenceFinal, 'model.safetensors'))), context).toBe(true);
    expect(readFileSync(join(final, 'optimizer.safetensors')).equals(readFileSync(join(referenceFinal, 'optimizer.safetensors'))), context).toBe(true);
    expect(metricsWithoutTimes(dir), context).toEqual(metricsWithoutTimes(referenceDir));
  });
});
