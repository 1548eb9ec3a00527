/**
 * Where a row-block job of the non-GEMM SIMD kernels lives in the GEMM's shared wasm memory, and
 * the module the threads run it with. The GEMM's control block ends at CTRL.size (256) and its
 * data starts at DATA_BASE (64 KiB); the job words sit between, the kernels' operands from DATA_BASE.
 * GEMM calls and kernel calls never overlap (both are synchronous on the calling thread), so they
 * share that memory as scratch.
 */
import { decodeBase64 } from '../gemm/runtime.js';
import { SIMD_KERNEL_EXPORTS, SIMD_KERNELS_SHARED_BASE64 } from '../simd/wasm-bytes.js';

/**
 * code: the CTRL.kernel value that sends workers to a row job. claim: byte offset of the 64-bit
 * claim word (blocks << 32 | next block). done: int32 count of finished blocks. desc: float64 job
 * descriptor, descLength entries: [0] kernel index in `names`, [1] argument count, [2] index of the
 * argument that receives a block's row count, [3] rows per block, [4] rows in the job, [5] 1 when
 * the row count is padded to 4 lanes (elementwise kernels), [8 + i] argument i at row 0,
 * [24 + i] its step per row, [40 + i] its step per block.
 */
export const ROW_JOB = {
  code: 2,
  claim: 1024,
  done: 1032,
  desc: 1040,
  descLength: 56,
  maxArgs: 16,
  names: [...SIMD_KERNEL_EXPORTS] as string[],
} as const;

let module: WebAssembly.Module | undefined;
/** The SIMD kernels compiled against a shared memory (every thread instantiates it over the GEMM's). */
export function sharedRowKernelsModule(): WebAssembly.Module {
  return (module ??= new WebAssembly.Module(decodeBase64(SIMD_KERNELS_SHARED_BASE64)));
}
