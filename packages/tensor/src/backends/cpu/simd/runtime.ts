/**
 * The compiled non-GEMM SIMD kernel module and the scratch arena (its one unshared memory) that
 * every kernel call reuses: inputs are copied in chunk by chunk, computed on in place, and the
 * results copied once into the kernel's output arrays. Nothing here runs threads.
 */
import { decodeBase64 } from '../gemm/runtime.js';
import { SIMD_KERNELS_BASE64, SIMD_MAX_PAGES } from './wasm-bytes.js';

/** The module's exports (scripts/simd-kernels-wat.mjs documents each); addresses are bytes. */
export interface SimdExports {
  gelu(px: number, po: number, n: number): void;
  gelu_grad(px: number, pdy: number, n: number): void;
  softmax_none(px: number, rows: number, cols: number, pmask: number, poffs: number): void;
  softmax_row(px: number, rows: number, cols: number, pmask: number, poffs: number): void;
  softmax_scalar(px: number, rows: number, cols: number, pmask: number, poffs: number): void;
  softmax_grad(py: number, pdy: number, rows: number, cols: number): void;
  layer_norm(px: number, pg: number, pb: number, pmean: number, prstd: number, rows: number, cols: number, eps: number): void;
  layer_norm_grad(
    pdy: number,
    px: number,
    pg: number,
    pmean: number,
    prstd: number,
    rows: number,
    cols: number,
    pdg: number,
    pdb: number,
  ): void;
  ce_stats(pl: number, rows: number, cols: number, pstats: number): void;
  ce_grad(pl: number, rows: number, cols: number, plse: number, factor: number): void;
  dropout(px: number, n: number, base: number, key: number, thr: number, scale: number): void;
  add_rows(px: number, pr: number, rows: number, cols: number): void;
  adamw(
    pp: number,
    pg: number,
    pm: number,
    pv: number,
    n: number,
    decay: number,
    stepSize: number,
    invCorrection2: number,
    eps: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
  ): void;
}

let bytes: Uint8Array<ArrayBuffer> | undefined;
const moduleBytes = (): Uint8Array<ArrayBuffer> => (bytes ??= decodeBase64(SIMD_KERNELS_BASE64));

let supported: boolean | undefined;
/** Whether this runtime validates the module, i.e. has WebAssembly with 128-bit SIMD. */
export function simdKernelsSupported(): boolean {
  if (supported === undefined) {
    try {
      supported = typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes());
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** The instance plus typed views over its memory, rebuilt whenever the memory grows. */
export class SimdArena {
  readonly kernels: SimdExports;
  private readonly memory: WebAssembly.Memory;
  f32 = new Float32Array(0);
  i32 = new Int32Array(0);
  f64 = new Float64Array(0);

  constructor() {
    // Starts at 1 MiB; grows on demand and never shrinks (the largest call sets the high-water mark).
    this.memory = new WebAssembly.Memory({ initial: 16, maximum: SIMD_MAX_PAGES });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as SimdExports;
    this.refresh();
  }

  /** Makes the arena at least `byteCount` bytes; views must be re-read after this. */
  reserve(byteCount: number, who: string): void {
    const have = this.memory.buffer.byteLength;
    if (byteCount <= have) return;
    if (byteCount > SIMD_MAX_PAGES * 65536) {
      throw new Error(`${who}: needs ${(byteCount / 2 ** 20).toFixed(0)} MiB of wasm scratch memory, over the 4096 MiB wasm32 maximum`);
    }
    try {
      this.memory.grow(Math.ceil((byteCount - have) / 65536));
    } catch (error) {
      throw new Error(
        `${who}: could not grow the SIMD kernels' wasm memory to ${(byteCount / 2 ** 20).toFixed(1)} MiB: ` +
          (error instanceof Error ? error.message : String(error)),
      );
    }
    this.refresh();
  }

  private refresh(): void {
    const buffer = this.memory.buffer;
    this.f32 = new Float32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }
}

let arena: SimdArena | undefined;
/** The process-wide arena, instantiated on first use (a failure here is an error, not a fallback). */
export function simdArena(): SimdArena {
  return (arena ??= new SimdArena());
}

/**
 * Byte offsets of consecutive regions of the given byte sizes, each 16-byte aligned and padded
 * by 16 bytes (so padded vector loads at a region's end stay inside it), plus the total.
 */
export function regions(sizes: readonly number[]): { at: number[]; total: number } {
  const at: number[] = [];
  let next = 0;
  for (const size of sizes) {
    at.push(next);
    next += Math.ceil(size / 16) * 16 + 16;
  }
  return { at, total: next };
}
