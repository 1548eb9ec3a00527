/**
 * Row-block jobs: how the non-GEMM SIMD kernels (../simd) run on every thread.
 *
 * A kernel call is cut into blocks of whole rows (elementwise kernels: of 16K elements) whose size
 * depends only on the operands' shape, never on the thread count; each block is one call of the
 * wasm kernel on its rows, and per-block partial sums (LayerNormGrad's dgamma/dbeta) get a slot of
 * their own that the caller adds up in block order. So the results are bit-identical for any thread
 * count: threads only decide who runs which block.
 *
 * In Node the operands go into the GEMM's shared wasm memory (../gemm: same worker pool, same
 * spin-then-sleep workers); the caller copies a super-chunk of rows in, publishes the job, claims
 * blocks alongside the workers and copies the results out. Where workers cannot run (browsers
 * without cross-origin isolation, RETRO_GEMM_SHARED=0) the same blocks run on the calling thread
 * in the unshared arena of ../simd/runtime.ts.
 */
import { CTRL } from '../gemm/wasm-bytes.js';
import { DATA_BASE } from '../gemm/plan.js';
import { ensureBytes } from '../gemm/runtime.js';
import { kernelPool, kernelThreads, shutdownGemm } from '../gemm/index.js';
import { simdArena, type SimdExports } from '../simd/runtime.js';
import { ROW_JOB, sharedRowKernelsModule } from './row-layout.js';
import { scratchCeiling } from '../resident.js';

export type SimdKernelName = keyof SimdExports;

/** Scratch memory the kernels' operands go through: typed views, the kernels, and its first free byte. */
export interface KernelArena {
  readonly kernels: SimdExports;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;
  /** Byte address where operands may start. */
  readonly base: number;
  /** Threads this arena's jobs may use (1 for the unshared arena). */
  threads: number;
  /** Makes [base, base + bytes) usable; views must be re-read after this. */
  reserve(bytes: number, who: string): void;
}

/** One row job: `kernel(...args)` run block by block (see ROW_JOB for the fields' meaning). */
export interface RowJob {
  kernel: SimdKernelName;
  /** Arguments as for the first row of the job (byte addresses, counts, scalars). */
  args: number[];
  /** Index of the argument that receives each block's row count. */
  rowsArg: number;
  blockRows: number;
  rows: number;
  /** Pad each block's row count to a multiple of 4 (elementwise kernels over padded regions). */
  pad4?: boolean;
  /** Per argument: added once per row of the block's offset (byte pitch, element index step). */
  rowStep: number[];
  /** Per argument: added once per block index (per-block partial-sum slots). */
  blockStep?: number[];
}

/** Below this many elements a call runs on the calling thread: waking workers costs more. */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;
/** Elements per block for elementwise kernels; rows kernels take max(1, BLOCK / cols) rows. */
export const BLOCK_ELEMENTS = 1 << 14;
/** Elements per operand copied in per job (a super-chunk of blocks). */
const SUPER_ELEMENTS = 1 << 20;

/** Rows per block for rows of `cols` elements: shape-only, so thread counts never change it. */
export const blockRowsFor = (cols: number): number => Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, cols)));

/** Rows per super-chunk: whole blocks, about SUPER_ELEMENTS per operand. */
export function superRowsFor(blockRows: number, cols: number, rows: number): number {
  const blocks = Math.max(1, Math.floor(SUPER_ELEMENTS / (blockRows * Math.max(1, cols))));
  return Math.min(rows, blocks * blockRows);
}

class SharedArena implements KernelArena {
  readonly kernels: SimdExports;
  f32 = new Float32Array(0);
  i32 = new Int32Array(0);
  f64 = new Float64Array(0);
  readonly base = DATA_BASE;
  private bytes = -1;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly maxBytes: number,
    public threads: number,
  ) {
    this.kernels = new WebAssembly.Instance(sharedRowKernelsModule(), { env: { memory } }).exports as unknown as SimdExports;
    this.refresh();
  }

  reserve(bytes: number, who: string): void {
    const end = this.base + bytes;
    // Below the resident arrays (../resident.ts) once there are any.
    const ceiling = scratchCeiling(this.maxBytes);
    if (end > ceiling) {
      throw new Error(`${who}: needs ${(end / 2 ** 20).toFixed(0)} MiB of shared wasm memory, over the ${(ceiling / 2 ** 20).toFixed(0)} MiB its scratch may use`);
    }
    try {
      ensureBytes(this.memory, end);
    } catch (error) {
      throw new Error(`${who}: could not grow the shared wasm memory to ${(end / 2 ** 20).toFixed(1)} MiB: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.refresh();
  }

  refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer.byteLength === this.bytes) return;
    this.bytes = buffer.byteLength;
    this.f32 = new Float32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }
}

let shared: SharedArena | undefined;

/**
 * The arena for a call over `elements` elements: the shared one (every thread) where workers can
 * run and the call is big enough, else the calling thread's unshared arena.
 */
export function kernelArena(elements: number): KernelArena {
  const threads = kernelThreads();
  if (threads <= 1) return unsharedArena();
  return sharedArena(elements >= PARALLEL_MIN_ELEMENTS ? threads : 1);
}

/**
 * The arena over the shared wasm memory whatever the thread count, for kernels whose operands
 * already live there (../resident.ts); the caller has checked that the memory is shared.
 */
export function residentArena(elements: number): KernelArena {
  const threads = kernelThreads();
  return sharedArena(threads > 1 && elements >= PARALLEL_MIN_ELEMENTS ? threads : 1);
}

function sharedArena(threads: number): SharedArena {
  if (!shared) {
    const { runtime } = kernelPool(1);
    shared = new SharedArena(runtime.memory, runtime.maxBytes, threads);
  }
  shared.threads = threads;
  shared.refresh();
  return shared;
}

let unshared: KernelArena | undefined;
function unsharedArena(): KernelArena {
  const arena = simdArena();
  unshared ??= {
    kernels: arena.kernels,
    get f32() {
      return arena.f32;
    },
    get i32() {
      return arena.i32;
    },
    get f64() {
      return arena.f64;
    },
    base: 0,
    threads: 1,
    reserve: (bytes: number, who: string) => arena.reserve(bytes, who),
  } as KernelArena;
  return unshared;
}

/** Blocks of the last row job and how many the calling thread ran; for tests and benchmarks. */
const lastRun = { blocks: 0, callerBlocks: 0, threads: 1 };
export function rowJobLastRun(): { blocks: number; callerBlocks: number; threads: number } {
  return { ...lastRun };
}

/** Runs `job` on the arena's threads; returns when every block is done. */
export function runRowJob(arena: KernelArena, job: RowJob): void {
  const blocks = Math.ceil(job.rows / job.blockRows);
  lastRun.blocks = blocks;
  lastRun.callerBlocks = blocks;
  lastRun.threads = 1;
  if (blocks === 0) return;
  const kernel = arena.kernels[job.kernel] as (...args: number[]) => void;
  if (arena.threads <= 1 || blocks === 1) {
    const args = job.args.slice();
    for (let b = 0; b < blocks; b++) {
      blockArgs(job, b, args);
      kernel(...args);
    }
    return;
  }
  const { pool, runtime } = kernelPool(arena.threads);
  const buffer = runtime.memory.buffer;
  const ctrl = new Int32Array(buffer, 0, CTRL.size / 4);
  const desc = new Float64Array(buffer, ROW_JOB.desc, ROW_JOB.descLength);
  const claim = new BigInt64Array(buffer, ROW_JOB.claim, 1);
  const done = new Int32Array(buffer, ROW_JOB.done, 1);
  const n = job.args.length;
  if (n > ROW_JOB.maxArgs) throw new Error(`runRowJob: ${job.kernel} has ${n} arguments, over ${ROW_JOB.maxArgs}`);
  desc[0] = ROW_JOB.names.indexOf(job.kernel);
  desc[1] = n;
  desc[2] = job.rowsArg;
  desc[3] = job.blockRows;
  desc[4] = job.rows;
  desc[5] = job.pad4 ? 1 : 0;
  for (let i = 0; i < n; i++) {
    desc[8 + i] = job.args[i];
    desc[24 + i] = job.rowStep[i] ?? 0;
    desc[40 + i] = job.blockStep?.[i] ?? 0;
  }
  Atomics.store(done, 0, 0);
  ctrl[CTRL.kernel / 4] = ROW_JOB.code;
  ctrl[CTRL.workers / 4] = arena.threads - 1;
  // Publishing the claim word releases the descriptor to the workers (they read it after claiming).
  Atomics.store(claim, 0, BigInt(blocks) << 32n);
  pool?.wake();
  const args = job.args.slice();
  let mine = 0;
  for (;;) {
    const word = Atomics.load(claim, 0);
    const next = Number(word & 0xffffffffn);
    if (next >= blocks) break;
    if (Atomics.compareExchange(claim, 0, word, word + 1n) !== word) continue;
    blockArgs(job, next, args);
    kernel(...args);
    mine++;
    Atomics.add(done, 0, 1);
  }
  lastRun.callerBlocks = mine;
  lastRun.threads = arena.threads;
  waitBlocks(done, blocks, job.kernel);
}

/** Fills `args` for block `b` (mirrors the worker's loop in ../gemm/pool.ts). */
function blockArgs(job: RowJob, b: number, args: number[]): void {
  const r0 = b * job.blockRows;
  const count = Math.min(job.blockRows, job.rows - r0);
  for (let i = 0; i < job.args.length; i++) args[i] = job.args[i] + r0 * (job.rowStep[i] ?? 0) + b * (job.blockStep?.[i] ?? 0);
  args[job.rowsArg] = job.pad4 ? (count + 3) & ~3 : count;
}

/** A worker that makes no progress for this long has died (blocks take well under a second). */
const STALL_MS = 60_000;

function waitBlocks(done: Int32Array, blocks: number, who: string): void {
  let spins = 0;
  let last = -1;
  let since = performance.now();
  for (;;) {
    const d = Atomics.load(done, 0);
    if (d >= blocks) return;
    if (d !== last) {
      last = d;
      since = performance.now();
    } else if ((spins & 1023) === 0 && performance.now() - since > STALL_MS) {
      shutdownGemm();
      throw new Error(`${who}: ${blocks - d} of ${blocks} row blocks never finished; a worker thread stopped`);
    }
    if (++spins > 2000) {
      try {
        Atomics.wait(done, 0, d, 2);
      } catch {
        spins = 0;
      }
    }
  }
}
