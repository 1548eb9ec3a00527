/**
 * The WebGPU op suite and the RetroMAE fixture parity, run on gpujs mode webgpu in headless
 * Chromium (WebGPU on SwiftShader) by scripts/browser-check/run.mjs --webgpu. Skips with a message
 * where /usr/bin/chromium (or $CHROMIUM) is missing, except under CI, where that is a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(chromium);
const reason = `no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM)`;

describe('gpujs mode webgpu in headless Chromium', () => {
  it.runIf(missing && !process.env.CI)(`skipped: ${reason}`, () => {
    console.warn(`webgpu-browser.test.ts: ${reason}; the WebGPU suite did not run`);
  });

/** Runs node with `args` without blocking this worker (vitest's RPC needs the event loop). */
function runNode(args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

  it.skipIf(missing && !process.env.CI)('passes the op suite (forward + backward vs float64), the RetroMAE parity (forward, losses, every gradient, AdamW 1-3) and trains like cpu', async () => {
    if (missing) throw new Error(`CI is set but ${reason}`);
    // 20 training steps keep CI within minutes on SwiftShader; the 50-step curve is `--parts training`.
    const args = ['scripts/browser-check/run.mjs', '--webgpu', '--parts', 'ops,parity,training', '--steps', '20', '--timeout', '540'];
    const run = await runNode(args, 580_000);
    const output = run.output;
    const summary = output.split('\n').filter((line) => /^op suite:|FAIL|failure|FATAL|WebGPU: all checks passed/.test(line));
    expect(run.status, `browser check exited ${run.status}:\n${output.slice(-6000)}`).toBe(0);
    expect(summary.join('\n')).toMatch(/op suite: (\d+)\/\1 passed; RetroMAE parity: (\d+)\/\2 passed; training: (\d+)\/\3 passed/);
  }, 600_000);
});
