/**
 * `retro pretrain --backend gpujs` in Node drives the webgpu mode end to end. This machine has no
 * WebGPU in Node (dawn.node needs glibc >= 2.38), so the device is @retro/tensor's counting device:
 * it runs no shader and reads back zeros. What that proves is the wiring, not the arithmetic (the
 * browser check covers that on SwiftShader): the whole CLI path (data, RetroMAE step, AdamW on the
 * device, metrics, checkpoint) makes no synchronous read, reads back about once per step, and does
 * not fall back to the cpu backend (which would give a non-zero loss).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { buildWordPieceVocab, writeWordPieceVocab } from '@retro/data';
import { countingGpu, gpujsInfo, setBackend } from '@retro/tensor';

const root = mkdtempSync(join(tmpdir(), 'retro-webgpu-node-'));
const previousNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

afterAll(() => {
  setBackend('cpu');
  if (previousNavigator) Object.defineProperty(globalThis, 'navigator', previousNavigator);
  else delete (globalThis as { navigator?: unknown }).navigator;
  rmSync(root, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(argv, { stdout: { write: () => {} }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stderr };
}

describe('retro pretrain --backend gpujs in Node (webgpu mode on a counting device)', () => {
  it('trains, logs and checkpoints on the device, reading back once per step', async () => {
    const corpus = join(root, 'corpus');
    mkdirSync(corpus);
    const texts = Array.from({ length: 120 }, (_, i) => `第${i}条新闻说今天的天气很好我们去公园散步然后回家吃饭`);
    writeFileSync(join(corpus, 'part-000.json'), JSON.stringify(texts.map((content, id) => ({ id, uniqueKey: `k${id}`, titleUkey: 't', dataType: '新闻', title: '', content }))));
    const tokenizer = join(root, 'tokenizer');
    await writeWordPieceVocab(await buildWordPieceVocab(texts, { minCharFrequency: 1 }), tokenizer);
    const shards = join(root, 'shards');
    const prepared = await run(['prepare', '--input', corpus, '--tokenizer', tokenizer, '--output', shards, '--max-length', '32']);
    expect(prepared.code, prepared.stderr).toBe(0);

    const { gpu, totals } = countingGpu();
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const out = join(root, 'run');
    const steps = 3;
    const trained = await run([
      'pretrain', '--data', shards, '--output', out, '--tokenizer', tokenizer, '--backend', 'gpujs',
      '--hidden-size', '32', '--num-layers', '1', '--num-heads', '2', '--intermediate-size', '64',
      '--batch-size', '4', '--total-steps', `${steps}`, '--checkpoint-every', `${steps}`, '--log-every', '1', '--no-progress',
    ]);
    expect(trained.code, trained.stderr).toBe(0);

    const info = gpujsInfo('gpujs');
    expect(info.mode).toBe('webgpu');
    expect(String(info.device)).toMatch(/counting device/);
    expect(totals.dispatches).toBeGreaterThan(100);
    // One transfer per step (losses, grad norm, finiteness) plus the checkpoint's parameter and optimizer reads.
    expect(info.transfers).toBeGreaterThanOrEqual(steps);
    expect(info.transfers).toBeLessThanOrEqual(steps + 4);

    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { step: number; loss: number });
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    // The counting device reads back zeros: a cpu fallback would have computed a real (positive) loss.
    for (const m of metrics) expect(m.loss).toBe(0);
    expect(existsSync(join(out, `checkpoint-${steps}`, 'trainer_state.json'))).toBe(true);
  }, 120_000);
});
