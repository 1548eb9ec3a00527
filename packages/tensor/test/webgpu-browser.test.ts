/**
 * The WebGPU op suite and the RetroMAE fixture parity, run on gpujs mode webgpu in headless
 * Chromium (WebGPU on SwiftShader) by scripts/browser-check/run.mjs --webgpu. Skips with a message
 * where /usr/bin/chromium (or $CHROMIUM) is missing, except under CI, where that is a failure.
 */
import { spawnSync } from 'node:child_process';
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

  it.skipIf(missing && !process.env.CI)('passes the op suite (forward + backward vs float64) and the RetroMAE parity (forward, losses, every gradient, AdamW 1-3)', () => {
    if (missing) throw new Error(`CI is set but ${reason}`);
    const run = spawnSync(process.execPath, ['scripts/browser-check/run.mjs', '--webgpu', '--timeout', '500'], { cwd: root, encoding: 'utf8', timeout: 560_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    const summary = output.split('\n').filter((line) => /^op suite:|FAIL|failure|FATAL|WebGPU: all checks passed/.test(line));
    expect(run.status, `browser check exited ${run.status}:\n${output.slice(-6000)}`).toBe(0);
    expect(summary.join('\n')).toMatch(/op suite: (\d+)\/\1 passed; RetroMAE parity: (\d+)\/\2 passed/);
  }, 600_000);
});
