/**
 * Fast cpu GEMM: WebAssembly SIMD with a 4x8 register tile, packed operands, K blocked for
 * cache, and the work split across worker threads over one shared WebAssembly.Memory.
 *
 * Synchronous: the calling thread copies the operands into wasm memory, publishes the job,
 * takes its own share of the items and waits for the workers with Atomics. Small products run
 * on the calling thread alone (waking workers costs more than they save) and tiny ones in plain
 * JS (copying into wasm costs more than the arithmetic). See scripts/gemm-wat.mjs for the kernel.
 */
import { jsGemmOne } from './js-gemm.js';
import { bytesPerItem, DATA_BASE, makePlan, sharedBBytes, type GemmPlan } from './plan.js';
import { WorkerPool } from './pool.js';
import {
  ensureBytes,
  envVar,
  nodeBuiltin,
  relaxedSupported,
  sharedMemorySupported,
  simdSupported,
  wasmRuntime,
  workerHost,
  type GemmKernel,
  type WasmRuntime,
} from './runtime.js';
import { CTRL } from './wasm-bytes.js';
import { sharedRowKernelsModule } from '../parallel/row-layout.js';
import { scratchCeiling } from '../resident.js';

export type { GemmKernel } from './runtime.js';

export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  /** op(A) is [m,k]; stored [m,k], or [k,m] when transA. */
  a: Float32Array;
  /** op(B) is [k,n]; stored [k,n], or [n,k] when transB. */
  b: Float32Array;
  /** [m,n], written (or accumulated into when `accumulate`). */
  c: Float32Array;
  /** Products in the batch; default 1. */
  batch?: number;
  /** Elements between batch items: defaults m*k, k*n, m*n. strideB 0 = every item shares B. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** c += op(A) op(B) instead of c = op(A) op(B). */
  accumulate?: boolean;
}

export interface GemmOptions {
  /** Threads including the caller; 1 = single-threaded. Default os.availableParallelism(). */
  threads?: number;
  /** 'auto' picks relaxed (FMA) where it validates, else simd, else js. */
  kernel?: GemmKernel | 'auto';
  /** Products with fewer multiply-adds (m*n*k*batch) than this run on the calling thread only. */
  parallelMinMacs?: number;
  /** Products with fewer multiply-adds than this run in plain JS. */
  wasmMinMacs?: number;
}

/** Below ~0.1 ms of single-thread work, waking a sleeping worker (~25 us) and syncing does not pay. */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 21;
/** Below this, setting up the wasm job (copies, params) costs more than the arithmetic. */
const DEFAULT_WASM_MIN_MACS = 1024;
/** Memory kept for batch chunks when the whole batch need not be resident at once. */
const CHUNK_TARGET_BYTES = 256 * 1024 * 1024;

const options: Required<Omit<GemmOptions, 'threads'>> & { threads: number | undefined } = {
  threads: undefined,
  kernel: 'auto',
  parallelMinMacs: DEFAULT_PARALLEL_MIN_MACS,
  wasmMinMacs: DEFAULT_WASM_MIN_MACS,
};

let pool: WorkerPool | undefined;
/** Items of the last wasm product and how many of them the calling thread ran. */
const lastRun = { items: 0, callerItems: 0, threads: 1 };

function hostThreads(): number {
  const fromEnv = Number(envVar('RETRO_GEMM_THREADS'));
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return fromEnv;
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus?: () => unknown[] }>('node:os');
  const browser = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  const n = os?.availableParallelism?.() ?? os?.cpus?.().length ?? browser;
  return n && n >= 1 ? n : 1;
}

/**
 * Why the GEMM (and the row kernels) run on the calling thread alone whatever the thread option
 * says, or undefined where workers can help: they need shared wasm memory and a worker host
 * (Node's worker_threads, or Web Workers in a cross-origin-isolated page).
 */
function singleThreadReason(): string | undefined {
  if (pool?.failure) return pool.failure;
  const host = workerHost();
  if (host.kind === 'none') return host.reason;
  if (!wasmRuntime().shared) return sharedMemorySupported() ? 'the shared wasm memory could not be reserved' : 'no SharedArrayBuffer here (or RETRO_GEMM_SHARED=0)';
  return undefined;
}

function canUseWorkers(): boolean {
  return singleThreadReason() === undefined;
}

/** The kernel `gemm` runs now. */
export function activeGemmKernel(): GemmKernel {
  if (options.kernel !== 'auto') return options.kernel;
  if (relaxedSupported()) return 'relaxed';
  return simdSupported() ? 'simd' : 'js';
}

function threadCount(): number {
  if (activeGemmKernel() === 'js' || !canUseWorkers()) return 1;
  return options.threads ?? hostThreads();
}

export interface GemmInfo {
  /** wasm SIMD in use. */
  simd: boolean;
  /** relaxed-SIMD FMA in use. */
  relaxedSimd: boolean;
  /** Threads products use, including the caller. */
  threads: number;
  /** Where the helper threads come from: 'worker_threads' (Node), 'web-workers' (browsers), or 'none'. */
  workers: 'worker_threads' | 'web-workers' | 'none';
  /** Why it runs single-threaded, when it must (no shared memory, no worker host, a worker failed). */
  singleThreadReason?: string;
}

export function gemmInfo(): GemmInfo {
  const kernel = activeGemmKernel();
  const reason = kernel === 'js' ? 'no wasm SIMD: the plain JS kernel runs on the calling thread' : singleThreadReason();
  const host = workerHost().kind;
  return {
    simd: kernel !== 'js',
    relaxedSimd: kernel === 'relaxed',
    threads: threadCount(),
    workers: reason !== undefined ? 'none' : host === 'node' ? 'worker_threads' : 'web-workers',
    ...(reason !== undefined ? { singleThreadReason: reason } : {}),
  };
}

/**
 * How the last wasm product was split: `items` work items (operand packing + C blocks) of which
 * the calling thread ran `callerItems`; the rest ran on workers. For tests and benchmarks.
 */
export function gemmLastRun(): { items: number; callerItems: number; threads: number } {
  return { ...lastRun };
}

/** Sets the thread count (including the caller); 1 = single-threaded. */
export function setGemmThreads(n: number): void {
  setGemmOptions({ threads: n });
}

/**
 * Tunes the GEMM (mostly for tests and benchmarks). Forcing a kernel the host cannot run
 * throws, naming the kernel.
 */
export function setGemmOptions(next: GemmOptions): void {
  if (next.threads !== undefined) {
    if (!Number.isInteger(next.threads) || next.threads < 1) {
      throw new Error(`setGemmThreads: threads must be an integer >= 1, found ${next.threads}`);
    }
    options.threads = next.threads;
  }
  if (next.kernel !== undefined) {
    if (next.kernel === 'relaxed' && !relaxedSupported()) {
      throw new Error("setGemmOptions: kernel 'relaxed' needs wasm relaxed SIMD, which this host does not validate");
    }
    if (next.kernel === 'simd' && !simdSupported()) {
      throw new Error("setGemmOptions: kernel 'simd' needs wasm SIMD, which this host does not validate");
    }
    options.kernel = next.kernel;
  }
  if (next.parallelMinMacs !== undefined) options.parallelMinMacs = next.parallelMinMacs;
  if (next.wasmMinMacs !== undefined) options.wasmMinMacs = next.wasmMinMacs;
}

/** Terminates the worker threads (they are unref()'d anyway); the next parallel product restarts them. */
export function shutdownGemm(): void {
  pool?.shutdown();
  pool = undefined;
}

/** The pool with at least `workers` workers started (extra ones sit out jobs that do not ask for them). */
function ensurePool(rt: WasmRuntime, workers: number): WorkerPool {
  pool ??= new WorkerPool(rt.memory, [
    rt.variant('simd').module,
    relaxedSupported() ? rt.variant('relaxed').module : undefined,
    sharedRowKernelsModule(),
  ]);
  pool.grow(workers);
  return pool;
}

/**
 * Threads the non-GEMM kernels' row jobs may use (the GEMM's count, including the caller), or 1
 * where workers cannot run (no shared memory or worker host; see gemmInfo().singleThreadReason).
 */
export function kernelThreads(): number {
  if (!simdSupported() || !canUseWorkers()) return 1;
  return options.threads ?? hostThreads();
}

/** The shared runtime and the pool with `threads - 1` workers started, for a row job. */
export function kernelPool(threads: number): { runtime: WasmRuntime; pool: WorkerPool | undefined } {
  const runtime = wasmRuntime();
  return { runtime, pool: threads > 1 ? ensurePool(runtime, threads - 1) : undefined };
}

/**
 * Starts the worker pool now (it otherwise starts on the first parallel product and workers
 * join jobs as they come up) and resolves when every worker is ready. Resolves with the number
 * of threads products will use; rejects if a worker could not start.
 */
export async function gemmReady(): Promise<number> {
  if (pool?.failure) throw new Error(`gemmReady: ${pool.failure}`);
  const threads = threadCount();
  const kernel = activeGemmKernel();
  if (threads > 1 && kernel !== 'js') {
    const p = ensurePool(wasmRuntime(), threads - 1);
    await p.whenReady();
    if (p.failure) throw new Error(`gemmReady: ${p.failure}`);
  }
  return threads;
}

function checkArgs(args: GemmArgs, batch: number, sA: number, sB: number, sC: number): void {
  const { m, n, k } = args;
  for (const [name, v] of Object.entries({ m, n, k, batch, strideA: sA, strideB: sB, strideC: sC })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemm: ${name} must be a non-negative integer, found ${v}`);
  }
  if (batch === 0) return;
  const need = (what: string, arr: Float32Array, stride: number, size: number, shape: string): void => {
    const len = size === 0 ? 0 : (batch - 1) * stride + size;
    if (arr.length < len) {
      throw new Error(
        `gemm: ${what} ${shape} x batch ${batch} (stride ${stride}) needs ${len} elements, found ${arr.length}`,
      );
    }
  };
  const { transA, transB } = args;
  need('a', args.a, sA, m * k, transA ? `[k=${k}, m=${m}]` : `[m=${m}, k=${k}]`);
  need('b', args.b, sB, k * n, transB ? `[n=${n}, k=${k}]` : `[k=${k}, n=${n}]`);
  need('c', args.c, sC, m * n, `[m=${m}, n=${n}]`);
}

/**
 * C[m,n] = op(A)[m,k] op(B)[k,n] for each batch item (C += ... when accumulate). op(A) is A, or
 * A stored [k,m] when transA; op(B) is B, or B stored [n,k] when transB. Row-major, dense.
 * Products whose wasm working set exceeds the 4 GiB wasm32 memory throw, naming the shapes.
 */
export function gemm(args: GemmArgs): void {
  const { m, n, k } = args;
  const batch = args.batch ?? 1;
  const strideA = args.strideA ?? m * k;
  const strideB = args.strideB ?? k * n;
  const strideC = args.strideC ?? m * n;
  const accumulate = args.accumulate ?? false;
  checkArgs(args, batch, strideA, strideB, strideC);
  if (m === 0 || n === 0 || batch === 0) return;
  if (k === 0) {
    if (!accumulate) for (let b = 0; b < batch; b++) args.c.fill(0, b * strideC, b * strideC + m * n);
    return;
  }
  const kernel = activeGemmKernel();
  const macs = m * n * k * batch;
  if (kernel === 'js' || macs < options.wasmMinMacs) {
    for (let b = 0; b < batch; b++) {
      jsGemmOne(args.transA, args.transB, m, n, k, args.a, b * strideA, args.b, b * strideB, args.c, b * strideC, accumulate);
    }
    return;
  }
  wasmGemm(args, kernel, batch, strideA, strideB, strideC, accumulate, macs);
}

/** Views over wasm memory, rebuilt when it grows (an unshared buffer detaches on grow). */
let viewBuffer: ArrayBufferLike | undefined;
let viewBytes = -1;
let heap = new Float32Array(0);
let ctrl32 = new Int32Array(0);
let claim64 = new BigInt64Array(0);

function refreshViews(memory: WebAssembly.Memory): void {
  const buffer = memory.buffer;
  if (buffer === viewBuffer && buffer.byteLength === viewBytes) return;
  viewBuffer = buffer;
  viewBytes = buffer.byteLength;
  heap = new Float32Array(buffer);
  ctrl32 = new Int32Array(buffer, 0, CTRL.size / 4);
  claim64 = new BigInt64Array(buffer, 0, 1);
}

function writeParams(
  plan: GemmPlan,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  kernel: 'relaxed' | 'simd',
  workers: number,
): void {
  const set = (field: keyof typeof CTRL, v: number): void => {
    ctrl32[CTRL[field] / 4] = v;
  };
  set('nPack', plan.nPack);
  set('m', plan.m);
  set('n', plan.n);
  set('k', plan.k);
  set('shareB', plan.shareB ? 1 : 0);
  set('transA', transA ? 1 : 0);
  set('transB', transB ? 1 : 0);
  set('accumulate', accumulate ? 1 : 0);
  set('rawA', plan.rawA);
  set('rawB', plan.rawB);
  set('packA', plan.packA);
  set('packB', plan.packB);
  set('c', plan.c);
  set('mPad', plan.mPad);
  set('nPad', plan.nPad);
  set('kc', plan.kc);
  set('mc', plan.mc);
  set('nc', plan.nc);
  set('nMBlk', plan.nMBlk);
  set('nNBlk', plan.nNBlk);
  set('aPackPerBatch', plan.aPackPerBatch);
  set('aPackTotal', plan.batch * plan.aPackPerBatch);
  set('bPackPerBatch', plan.bPackPerBatch);
  set('mcPack', plan.mcPack);
  set('ncPack', plan.ncPack);
  set('kernel', kernel === 'relaxed' ? 1 : 0);
  set('workers', workers);
}

/** Copies `count` blocks of `size` elements, `stride` apart in src, densely into heap at `dst`. */
function copyIn(src: Float32Array, srcOff: number, stride: number, size: number, count: number, dst: number): void {
  if (stride === size || count === 1) {
    heap.set(src.subarray(srcOff, srcOff + size * count), dst);
    return;
  }
  for (let i = 0; i < count; i++) heap.set(src.subarray(srcOff + i * stride, srcOff + i * stride + size), dst + i * size);
}

/** Moves C between the caller's dense [m,n] items and wasm's padded [mPad, nPad] items. */
function copyC(plan: GemmPlan, c: Float32Array, cOff: number, strideC: number, toWasm: boolean): void {
  const { m, n, nPad, mPad } = plan;
  for (let b = 0; b < plan.batch; b++) {
    const user = cOff + b * strideC;
    const wasm = plan.c / 4 + b * mPad * nPad;
    if (nPad === n) {
      if (toWasm) heap.set(c.subarray(user, user + m * n), wasm);
      else c.set(heap.subarray(wasm, wasm + m * n), user);
      continue;
    }
    for (let i = 0; i < m; i++) {
      const u = user + i * n;
      const w = wasm + i * nPad;
      if (toWasm) heap.set(c.subarray(u, u + n), w);
      else c.set(heap.subarray(w, w + n), u);
    }
  }
}

/** A worker that makes no progress for this long has died (items take well under a second). */
const STALL_MS = 60_000;

/** Waits (spinning, then sleeping where the host allows) until every item of the job is done. */
function waitDone(count: number, what: string): void {
  const DONE = CTRL.done / 4;
  let spins = 0;
  let last = -1;
  let since = 0;
  for (;;) {
    const done = Atomics.load(ctrl32, DONE);
    if (done >= count) return;
    if (done !== last) {
      last = done;
      since = performance.now();
    } else if ((spins & 1023) === 0 && performance.now() - since > STALL_MS) {
      shutdownGemm();
      throw new Error(`gemm: ${what}: ${count - done} of ${count} work items never finished; a worker thread stopped`);
    }
    if (++spins > 2000) {
      // Workers notify after their last item; the timeout guards against a missed wake anyway.
      try {
        Atomics.wait(ctrl32, DONE, done, 2);
      } catch {
        spins = 0; // Atomics.wait is not allowed on this thread (browser main thread): keep spinning.
      }
    }
  }
}

function wasmGemm(
  args: GemmArgs,
  kernel: 'relaxed' | 'simd',
  batch: number,
  strideA: number,
  strideB: number,
  strideC: number,
  accumulate: boolean,
  macs: number,
): void {
  const { m, n, k, transA, transB } = args;
  const rt = wasmRuntime();
  const variant = rt.variant(kernel);
  const threads = macs >= options.parallelMinMacs ? threadCount() : 1;
  const workers = threads > 1 ? ensurePool(rt, threads - 1) : undefined;
  const shareB = strideB === 0 || batch === 1;

  const fixed = DATA_BASE + sharedBBytes(n, k, shareB) + 6 * 64;
  const perItem = bytesPerItem(m, n, k, shareB);
  // Below the resident arrays (../resident.ts) once there are any, else the whole memory.
  const ceiling = scratchCeiling(rt.maxBytes);
  if (fixed + perItem > ceiling) {
    const mib = (x: number): string => (x / 2 ** 20).toFixed(0);
    const limit = ceiling < rt.maxBytes ? `the ${mib(ceiling)} MiB below the resident optimizer state` : `the ${mib(rt.maxBytes)} MiB wasm32 maximum`;
    throw new Error(
      `gemm: m=${m} k=${k} n=${n}${transA ? ' transA' : ''}${transB ? ' transB' : ''} needs ${mib(fixed + perItem)} MiB ` +
        `of wasm memory (operands, packed copies and C), over ${limit}; split the product`,
    );
  }
  const fits = Math.floor((ceiling - fixed) / perItem);
  const comfy = Math.floor((CHUNK_TARGET_BYTES - fixed) / perItem);
  const chunk = Math.max(1, Math.min(batch, fits, Math.max(comfy, 1)));

  lastRun.items = 0;
  lastRun.callerItems = 0;
  lastRun.threads = threads;
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const bc = Math.min(chunk, batch - b0);
    const plan = makePlan(m, n, k, bc, shareB, threads);
    try {
      ensureBytes(rt.memory, plan.end);
    } catch (error) {
      throw new Error(
        `gemm: m=${m} k=${k} n=${n} batch ${bc}: could not grow wasm memory to ${(plan.end / 2 ** 20).toFixed(0)} MiB: ` +
          (error instanceof Error ? error.message : String(error)),
      );
    }
    refreshViews(rt.memory);
    copyIn(args.a, b0 * strideA, strideA, m * k, bc, plan.rawA / 4);
    copyIn(args.b, shareB ? 0 : b0 * strideB, strideB, k * n, shareB ? 1 : bc, plan.rawB / 4);
    if (accumulate) copyC(plan, args.c, b0 * strideC, strideC, true);
    writeParams(plan, transA, transB, accumulate, kernel, threads - 1);
    const count = plan.nPack + plan.nCompute;
    Atomics.store(ctrl32, CTRL.done / 4, 0);
    Atomics.store(ctrl32, CTRL.packDone / 4, 0);
    // Publishing the claim word (count << 32 | next = 0) releases the parameters to every thread.
    Atomics.store(claim64, CTRL.claim / 8, BigInt(count) << 32n);
    workers?.wake();
    lastRun.callerItems += variant.work();
    lastRun.items += count;
    waitDone(count, `m=${m} k=${k} n=${n} batch ${bc}`);
    copyC(plan, args.c, b0 * strideC, strideC, false);
  }
}
