import { kernelTable, registerBackend } from '../../engine/engine.js';
import type { DType, TensorInfo } from '../../engine/kernels.js';
import { CPU, type HostArray } from './storage.js';
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

/** Registers the `cpu` backend and its kernels (idempotent). Storage is a Float32Array/Int32Array. */
export function registerCpuBackend(): void {
  if (registered) return;
  registered = true;
  // The WebAssembly SIMD GEMM (threaded); it picks plain JS itself only where wasm SIMD is absent.
  setCpuGemm(gemm);
  const kernels = kernelTable(CPU, [elementwiseKernels, activationKernels, layoutKernels, reduceKernels, nnKernels, matmulKernels, attentionKernels]);
  registerBackend(
    CPU,
    () => ({
      name: CPU,
      fromHost: (values: HostArray) => values,
      toHost: (info: TensorInfo) => info.storage as HostArray,
      zeros: (size: number, dtype: DType) => (dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)),
    }),
    kernels,
  );
}
export { cpuKernelInfo, setCpuKernelPath, type CpuKernelInfo, type CpuKernelPath } from './simd/index.js';
