/**
 * gpu.js's Promise-returning modes, measured on gpu.js kernels directly: `webgpu` (WGSL compute
 * shaders through the `webgpu` package's dawn.node, a real GPU where Vulkan finds one) and
 * threaded `webasm` (asyncMode: a worker pool over shared wasm memory), beside synchronous
 * `webasm` and `cpu`. The engine's gpujs backend cannot use these modes (Backend.toHost and
 * kernels are synchronous), so this script answers "what would an async backend buy" with numbers.
 *
 *   node --import tsx benchmarks/gpujs-async-modes.ts [--sizes 512,1024,2048] [--reps N] [--json FILE]
 *
 * Rows: a naive N x N x N matmul kernel (one output cell per thread, a k-loop), timed
 *  - "host": Float32Array arguments in, host array out (upload + compute + readback per call);
 *  - "resident" (webgpu only): arguments already on the GPU (pipeline handles), `--chain` calls
 *    queued back to back and one readback at the end, so the per-call figure is compute + dispatch.
 * Every timed result is checked against float64 dot products on 32 sampled cells (relError).
 */
import * as gpujs from 'gpu.js';

// a CommonJS package: its exports may arrive as named exports or only under `default`
const lib = ((gpujs as { default?: unknown }).default ?? gpujs) as typeof gpujs;
const { GPU } = lib;
// gpu.js's typings declare `input` as a type only; at run time it is the function
const input = (lib as unknown as { input(value: Float32Array, size: number[]): unknown }).input;
import { parseArgs, writeJson } from './lib/io.js';
import { median } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';

interface Row {
  mode: string;
  timing: 'host' | 'resident';
  n: number;
  ms: number;
  gflops: number;
  firstCallMs: number;
  relError: number;
  reps: number;
  /** webasm: the path gpu.js reports for the last call ('threaded', 'simd', ...). */
  path: string;
}

type AnyKernel = ((...args: unknown[]) => unknown) & { destroy(): void; kernel?: { _lastRunPath?: string | null } };
type Handle = { toArray(): unknown; delete?(): void };

function randomMatrix(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n * n);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** gpu.js returns 2-D outputs as an array of Float32Array rows; flatten for checking. */
function flatten(result: unknown, n: number): Float32Array {
  if (result instanceof Float32Array) return result;
  const rows = result as ArrayLike<ArrayLike<number>>;
  if (!rows || rows.length !== n) throw new Error(`gpujs-async-modes: expected ${n} output rows, got ${String((rows as { length?: number })?.length)}`);
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out.set(rows[i] as Float32Array, i * n);
  return out;
}

/** max |C - ref| / max |ref| over 32 sampled cells, ref in float64. */
function relativeError(c: Float32Array, a: Float32Array, b: Float32Array, n: number): number {
  let worst = 0;
  let scale = 0;
  for (let s = 0; s < 32; s++) {
    const i = (s * 7919) % n;
    const j = (s * 104729 + 13) % n;
    let ref = 0;
    for (let k = 0; k < n; k++) ref += a[i * n + k] * b[k * n + j];
    worst = Math.max(worst, Math.abs(c[i * n + j] - ref));
    scale = Math.max(scale, Math.abs(ref));
  }
  return worst / scale;
}

const MATMUL = `function(a, b) {
  let sum = 0;
  for (let k = 0; k < this.constants.n; k++) {
    sum += a[this.thread.y][k] * b[k][this.thread.x];
  }
  return sum;
}`;
const COPY = 'function(a) { return a[this.thread.y][this.thread.x]; }';

async function timeAsync(body: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await body();
  return performance.now() - t0;
}

type Native = Record<string, unknown>;
let uncapturedErrorsUnwatched = false;

/**
 * gpu.js 2.24.1 assigns an arrow function to `device.onuncapturederror`, which dawn.node 0.2.9
 * rejects ("object is not of the correct interface type / invalid value to onuncapturederror"),
 * so every webgpu kernel dies before it runs. The shim gives each device an own accessor for that
 * attribute that registers the handler as an 'uncapturederror' listener instead, where dawn takes it.
 */
function shimUncapturedError(device: Native): void {
  const listen = (device.addEventListener as ((type: string, fn: unknown) => void) | undefined)?.bind(device);
  let handler: unknown = null;
  Object.defineProperty(device, 'onuncapturederror', {
    configurable: true,
    get: () => handler,
    set: (fn: unknown) => {
      handler = fn;
      // dawn.node 0.2.9 refuses plain functions here too; then errors surface as wrong values,
      // which relError catches
      try {
        if (typeof fn === 'function' && listen) listen('uncapturederror', fn);
      } catch {
        uncapturedErrorsUnwatched = true;
      }
    },
  });
}

async function installWebGpu(): Promise<string> {
  const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): Native; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const real = create([]);
  const requestAdapter = (real.requestAdapter as (o?: unknown) => Promise<Native | null>).bind(real);
  // a plain object in front of dawn's GPU: its methods are called bound to the native objects
  const gpu = {
    requestAdapter: async (options?: unknown) => {
      const adapter = await requestAdapter(options);
      if (!adapter) return adapter;
      const requestDevice = (adapter.requestDevice as (d?: unknown) => Promise<Native>).bind(adapter);
      return new Proxy(adapter, {
        get(target, key) {
          if (key === 'requestDevice') {
            return async (descriptor?: unknown) => {
              const device = await requestDevice(descriptor);
              shimUncapturedError(device);
              return device;
            };
          }
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
    getPreferredCanvasFormat: () => (real.getPreferredCanvasFormat as () => string).call(real),
    wgslLanguageFeatures: real.wgslLanguageFeatures,
  };
  (globalThis as { navigator?: unknown }).navigator = { gpu };
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null (no WebGPU adapter: no Vulkan driver found?)');
  const info = (adapter.info ?? {}) as Record<string, string>;
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'adapter (no info)';
}

type GpuInstance = { createKernel(src: string, settings: Record<string, unknown>): AnyKernel; destroy(): void };

/** Times one mode at one size; a webgpu mode adds the GPU-resident row. */
async function measure(mode: string, gpu: GpuInstance, n: number, reps: number, chain: number): Promise<Row[]> {
  const rows: Row[] = [];
  const a = randomMatrix(n, 1);
  const b = randomMatrix(n, 2);
  const settings = { output: [n, n], constants: { n }, precision: 'single', asyncMode: mode !== 'cpu' && mode !== 'webasm', dynamicOutput: false };
  const matmul = gpu.createKernel(MATMUL, settings);
  try {
    const call = async (): Promise<Float32Array> => flatten(await matmul(input(a, [n, n]), input(b, [n, n])), n);
    const firstCallMs = await timeAsync(call);
    const times: number[] = [];
    let last: Float32Array = new Float32Array(0);
    for (let r = 0; r < reps; r++) times.push(await timeAsync(async () => (last = await call())));
    const ms = median(times);
    const row: Row = { mode, timing: 'host', n, ms, gflops: (2 * n ** 3) / ms / 1e6, firstCallMs, relError: relativeError(last, a, b, n), reps, path: matmul.kernel?._lastRunPath ?? '' };
    rows.push(row);
    console.log(`${mode} host ${n} (${row.path || 'n/a'}): ${fmt(ms)} ms, ${fmt(row.gflops)} GFLOP/s, relError ${row.relError.toExponential(1)}`);
  } finally {
    matmul.destroy();
  }
  if (mode !== 'webgpu') return rows;

  // immutable: each upload gets its own buffer (a mutable pipeline kernel reuses one output
  // buffer, so both handles would alias the last upload)
  const upload = gpu.createKernel(COPY, { output: [n, n], pipeline: true, immutable: true, precision: 'single' });
  const resident = gpu.createKernel(MATMUL, { ...settings, pipeline: true });
  try {
    const ha = (await upload(input(a, [n, n]))) as Handle;
    const hb = (await upload(input(b, [n, n]))) as Handle;
    const runChain = async (): Promise<Float32Array> => {
      const handles: Handle[] = [];
      for (let c = 0; c < chain; c++) handles.push((await resident(ha, hb)) as Handle);
      const values = flatten(await handles[handles.length - 1].toArray(), n);
      for (const h of handles) h.delete?.();
      return values;
    };
    const first = await timeAsync(runChain);
    const chainTimes: number[] = [];
    let out: Float32Array = new Float32Array(0);
    for (let r = 0; r < reps; r++) chainTimes.push(await timeAsync(async () => (out = await runChain())));
    const perCall = median(chainTimes) / chain;
    const row: Row = { mode, timing: 'resident', n, ms: perCall, gflops: (2 * n ** 3) / perCall / 1e6, firstCallMs: first, relError: relativeError(out, a, b, n), reps, path: 'pipeline' };
    rows.push(row);
    console.log(`${mode} resident ${n}: ${fmt(perCall)} ms/call (${chain} chained), ${fmt(row.gflops)} GFLOP/s, relError ${row.relError.toExponential(1)}`);
    ha.delete?.();
    hb.delete?.();
  } finally {
    upload.destroy();
    resident.destroy();
  }
  return rows;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const reps = Number(args.flags.reps ?? 5);
  const chain = Number(args.flags.chain ?? 10);
  const sizes = String(args.flags.sizes ?? '512,1024,2048').split(',').map(Number);
  const modes = String(args.flags.modes ?? 'webgpu,webasm-threads,webasm,cpu').split(',');
  const rows: Row[] = [];
  const notes: Record<string, string> = {};
  const note = (mode: string, text: string): void => {
    notes[mode] = notes[mode] ? `${notes[mode]}; ${text}` : text;
    console.log(`${mode}: ${text}`);
  };

  for (const mode of modes) {
    let gpu: GpuInstance;
    try {
      if (mode === 'webgpu') note(mode, `adapter: ${await installWebGpu()}`);
      gpu = new (GPU as unknown as new (s: { mode: string }) => GpuInstance)({ mode: mode === 'webasm-threads' ? 'webasm' : mode });
    } catch (error) {
      note(mode, `does not start: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    // plain JS is ~0.5 GFLOP/s and synchronous webasm ~1: keep them to the smaller sizes
    const modeSizes = mode === 'cpu' ? [Math.min(...sizes, 512)] : mode.startsWith('webasm') ? sizes.filter((n) => n <= 1024) : sizes;
    for (const n of modeSizes) {
      try {
        rows.push(...(await measure(mode, gpu, n, reps, chain)));
      } catch (error) {
        note(mode, `N=${n} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      }
    }
    gpu.destroy();
  }
  console.log(`\n${formatTable(rows, [
    { header: 'mode', value: (r) => r.mode },
    { header: 'timing', value: (r) => r.timing },
    { header: 'N', value: (r) => String(r.n), right: true },
    { header: 'ms (median)', value: (r) => fmt(r.ms), right: true },
    { header: 'GFLOP/s', value: (r) => fmt(r.gflops), right: true },
    { header: 'first call ms', value: (r) => fmt(r.firstCallMs), right: true },
    { header: 'relError', value: (r) => r.relError.toExponential(1), right: true },
    { header: 'path', value: (r) => r.path },
  ])}`);
  if (uncapturedErrorsUnwatched) note('webgpu', "dawn.node refused an 'uncapturederror' listener: device errors are unreported (values are still checked)");
  for (const [mode, text] of Object.entries(notes)) console.log(`${mode}: ${text}`);
  if (args.json) writeJson(args.json, { benchmark: 'gpujs-async-modes', notes, rows });
  // dawn.node keeps the process alive while navigator holds it
  delete (globalThis as { navigator?: unknown }).navigator;
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
