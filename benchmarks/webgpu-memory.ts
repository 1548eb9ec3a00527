/**
 * Device memory of a RetroMAE (and MLM) training step on gpujs mode webgpu, per model config:
 *
 *   npm run bench:webgpu-memory -- [--plan tiny:16,small:8,base:8,base:1] [--browser [--chromium PATH] [--timeout S]]
 *                                  [--json benchmarks/results/webgpu-memory.json]
 *
 * Every buffer the backend creates or frees passes through its allocation accounting
 * (`backendMemory()`); this reports it for a model built and updated twice per plan entry
 * (scripts/browser-check/memory-report.ts). Two devices can run the same measurement:
 *   default    Node, on a counting device (@retro/tensor's countingGpu) that runs no shader:
 *              the backend's allocations are the same as on a GPU (no value steers them), and the
 *              base config takes seconds instead of the hours software WebGPU would need.
 *   --browser  headless Chromium's WebGPU on SwiftShader (a real WebGPU implementation; slow).
 * Byte counts stand for any GPU; times here are not GPU times.
 *
 * Columns: parameters; model = bytes after building the model; steady = between updates
 * (parameters + gradients + AdamW moments); peak = most bytes alive during a second update;
 * bound = that peak counting nothing garbage collection freed (only disposes and tensor scopes):
 * the most any GC timing can need, so the number to hold against a GPU's memory; created = every
 * byte allocated during the update (allocation traffic, counting device only).
 */
import { runWebgpuCheck } from '../scripts/browser-check/webgpu.mjs';
import { countingGpu } from '@retro/tensor';
import { parseArgs, writeJson } from './lib/io.js';
import { fmt, formatTable } from './lib/table.js';
import type { MemoryRow } from '../scripts/browser-check/memory-report.js';

const GIB = 1024 ** 3;
const SIXTEEN_GB = 16e9;

interface Fit {
  config: string;
  objective: string;
  bytesPerRow: number;
  fixedBytes: number;
  /** Largest batch (rows of 128 tokens) whose extrapolated bound (peak without GC) stays under 16 GB. */
  maxBatchIn16GB: number;
}

/** Linear fit of the bound (peak without GC) over batch size, from the smallest and largest batch measured. */
export function fitsOf(rows: readonly MemoryRow[]): Fit[] {
  const groups = new Map<string, MemoryRow[]>();
  for (const r of rows) groups.set(`${r.config}/${r.objective}`, [...(groups.get(`${r.config}/${r.objective}`) ?? []), r]);
  const fits: Fit[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => a.batch - b.batch);
    const first = sorted[0]!;
    const last = sorted[sorted.length - 1]!;
    if (first.batch === last.batch) continue;
    const bytesPerRow = (last.peakWithoutGcBytes - first.peakWithoutGcBytes) / (last.batch - first.batch);
    const fixedBytes = first.peakWithoutGcBytes - bytesPerRow * first.batch;
    fits.push({ config: first.config, objective: first.objective, bytesPerRow, fixedBytes, maxBatchIn16GB: Math.floor((SIXTEEN_GB - fixedBytes) / bytesPerRow) });
  }
  return fits;
}

/** The plan on the counting device, in this process. */
async function countRows(plan: string): Promise<{ rows: MemoryRow[]; device: string }> {
  const { gpu, totals } = countingGpu();
  // The backend finds its device as a browser page would: navigator.gpu.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const { activateWebgpu, measureMemory, parseMemoryPlan } = await import('../scripts/browser-check/memory-report.js');
  const device = await activateWebgpu();
  const rows: MemoryRow[] = [];
  for (const { config, batch } of parseMemoryPlan(plan)) {
    for (const objective of ['retromae', 'mlm'] as const) {
      const row = await measureMemory(config, objective, batch, 128, () => totals.createdBytes);
      console.log(`  ${row.config} ${row.objective} ${row.batch} x ${row.length}: peak ${(row.peakBytes / GIB).toFixed(3)} GiB`);
      rows.push(row);
    }
  }
  return { rows, device };
}

/** The plan in headless Chromium's WebGPU (SwiftShader). */
async function browserRows(plan: string, chromium: string, timeout: number): Promise<{ rows: MemoryRow[]; device: string }> {
  const { result, failures } = await runWebgpuCheck({ chromium, timeout, parts: 'memory', memory: plan, quiet: false });
  if (failures.length > 0) throw new Error(`webgpu-memory: the page failed:\n  ${failures.join('\n  ')}${result.chromiumStderr ? `\n${result.chromiumStderr}` : ''}`);
  return { rows: result.memory as MemoryRow[], device: String(result.info?.device ?? 'unknown') };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const browser = args.flags.browser === true;
  const plan = String(args.flags.plan ?? (browser ? 'tiny:1,tiny:2' : 'tiny:16,tiny:32,small:8,small:16,base:4,base:8'));
  const { rows, device } = browser
    ? await browserRows(plan, String(args.flags.chromium ?? '/usr/bin/chromium'), Number(args.flags.timeout ?? 1800))
    : await countRows(plan);
  const result = { info: { device } };
  const gib = (bytes: number) => fmt(bytes / GIB, 3);
  console.log(`\nDevice memory of one training step on gpujs/webgpu (backend accounting; GiB = 2^30 bytes), device: ${result.info?.device ?? 'unknown'}`);
  console.log(
    formatTable(rows, [
      { header: 'config', value: (r) => r.config },
      { header: 'objective', value: (r) => r.objective },
      { header: 'batch', value: (r) => `${r.batch} x ${r.length}` },
      { header: 'params (M)', value: (r) => fmt(r.parameters / 1e6, 3) },
      { header: 'model GiB', value: (r) => gib(r.modelBytes) },
      { header: 'steady GiB', value: (r) => gib(r.steadyBytes) },
      { header: 'peak GiB', value: (r) => gib(r.peakBytes) },
      { header: 'bound GiB', value: (r) => gib(r.peakWithoutGcBytes) },
      { header: 'created GiB', value: (r) => (r.createdInUpdateBytes === null ? '-' : gib(r.createdInUpdateBytes)) },
      { header: 'left after dispose', value: (r) => r.leftBytes },
      { header: 'loss', value: (r) => fmt(r.loss, 4) },
      { header: 'seconds (not GPU time)', value: (r) => fmt(r.seconds, 3) },
    ]),
  );
  const fits = fitsOf(rows);
  if (fits.length > 0) {
    console.log('\nBound per extra batch row, and the largest batch under 16 GB (linear extrapolation from the two batch sizes measured):');
    console.log(
      formatTable(fits, [
        { header: 'config', value: (f) => f.config },
        { header: 'objective', value: (f) => f.objective },
        { header: 'GiB per row of 128', value: (f) => gib(f.bytesPerRow) },
        { header: 'fixed GiB', value: (f) => gib(f.fixedBytes) },
        { header: 'max batch in 16 GB (extrapolated)', value: (f) => f.maxBatchIn16GB },
      ]),
    );
  }
  const worstBase = rows.filter((r) => r.config === 'base' && r.batch >= 8);
  for (const r of worstBase) {
    const bound = r.peakWithoutGcBytes;
    console.log(`base ${r.objective} batch ${r.batch} x ${r.length}: peak ${gib(r.peakBytes)} GiB, bound ${gib(bound)} GiB -> ${bound < SIXTEEN_GB ? 'fits' : 'does NOT fit'} a 16 GB GPU`);
  }
  if (args.json) writeJson(args.json, { benchmark: 'webgpu-memory', mode: browser ? 'browser-swiftshader' : 'counting-device', plan, device, rows, fits });
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
