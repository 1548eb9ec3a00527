import { kernelTable, registerBackend } from '../../engine/engine.js';
import type { DType, KernelFunc, KernelTable, TensorInfo } from '../../engine/kernels.js';
import { cpuBufferRecycling, markEscaped, recycle } from './buffer-pool.js';
import { CPU, type HostArray } from './storage.js';
import { residentFloats } from './resident.js';
import { elementwiseKernels } from './elementwise.js';
import { layoutKernels } from './layout.js';
import { reduceKernels } from './reduce.js';
import { nnKernels } from './nn.js';
import { matmulKernels, setCpuGemm } from './matmul.js';
import { gemm } from './gemm/index.js';
import { activationKernels } from './activations.js';
import { attentionKernels } from './attention.js';

export { setCpuGemm, getCpuGemm, plainGemm, type Gemm, type GemmArgs } from './matmul.js';
export { gemm, gemmInfo, gemmLastRun, gemmReady, setGemmOptions, setGemmThreads, shutdownGemm, type GemmInfo, type GemmOptions } from './gemm/index.js';

let registered = false;

/**
 * The info each storage was last issued under (the kernel output that made it): only that info
 * may recycle it, so a stale dispose (a tensor freed twice, the second time after its storage was
 * recycled and issued again) cannot hand out an array someone still uses.
 */
const issuedAs = new WeakMap<object, TensorInfo>();

/**
 * Records the kernel's outputs for recycling (buffer-pool.ts); an output sharing an ArrayBuffer
 * with an input without being that input's storage (a subarray view) marks both as escaped.
 */
function issuing(table: KernelTable): KernelTable {
  const wrapped: Partial<Record<keyof KernelTable, KernelFunc>> = {};
  for (const [name, kernel] of Object.entries(table) as [keyof KernelTable, KernelFunc][]) {
    wrapped[name] = (inputs, attrs) => {
      const outputs = kernel(inputs, attrs);
      for (const out of outputs) {
        const storage = out.storage as HostArray;
        const input = inputs.find((info) => (info.storage as HostArray).buffer === storage.buffer);
        if (input === undefined) issuedAs.set(storage, out);
        else if (input.storage !== storage) {
          markEscaped(storage);
          markEscaped(input.storage);
        }
      }
      return outputs;
    };
  }
  return wrapped as KernelTable;
}

/** Backend.dispose while recycling is on: the storage goes back to the pool when `info` issued it. */
function disposeToPool(info: TensorInfo): void {
  if (issuedAs.get(info.storage as object) !== info) return;
  issuedAs.delete(info.storage as object);
  recycle(info.storage);
}

/** Registers the `cpu` backend and its kernels (idempotent). Storage is a Float32Array/Int32Array. */
export function registerCpuBackend(): void {
  if (registered) return;
  registered = true;
  // The WebAssembly SIMD GEMM (threaded); it picks plain JS itself only where wasm SIMD is absent.
  setCpuGemm(gemm);
  const kernels = issuing(kernelTable(CPU, [elementwiseKernels, activationKernels, layoutKernels, reduceKernels, nnKernels, matmulKernels, attentionKernels]));
  registerBackend(
    CPU,
    () => ({
      name: CPU,
      // The caller's array becomes the storage; the caller may still hold it.
      fromHost: (values: HostArray) => {
        markEscaped(values);
        return values;
      },
      // The storage itself goes to the caller (dataSync), who may keep it.
      toHost: (info: TensorInfo) => {
        markEscaped(info.storage);
        return info.storage as HostArray;
      },
      // Tensor.readSync: the caller keeps nothing, so the storage stays recyclable.
      peekHost: (info: TensorInfo) => info.storage as HostArray,
      // Optimizer moments: in the shared wasm memory where the host allows (resident.ts), so
      // AdamW updates them there; otherwise the array itself, as fromHost takes it.
      stateFromHost: (values: Float32Array) => {
        const resident = residentFloats(values.length);
        if (resident === undefined) {
          markEscaped(values);
          return values;
        }
        resident.set(values);
        return resident;
      },
      zeros: (size: number, dtype: DType) => (dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)),
      // Present only while recycling is on: scopes track cpu storage only then (scope.ts).
      get dispose() {
        return cpuBufferRecycling() ? disposeToPool : undefined;
      },
    }),
    kernels,
  );
}
export { cpuKernelInfo, setCpuKernelPath, type CpuKernelInfo, type CpuKernelPath } from './simd/index.js';
export { setCpuBufferRecycling, cpuBufferRecycling, cpuBufferPoolStats } from './buffer-pool.js';
export { residentStats as cpuStateMemoryStats } from './resident.js';
