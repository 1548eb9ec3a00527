import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));

describe('generated wasm-bytes.ts', () => {
  it('matches what scripts/build-wasm.mjs assembles from scripts/gemm-wat.mjs', () => {
    // --check exits 1 (and execFileSync throws) when the committed file is stale.
    const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });
});
