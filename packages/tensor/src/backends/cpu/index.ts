import { registerBackend } from '../../engine/engine.js';
import type { DType, TensorInfo } from '../../engine/kernels.js';
import { CPU, type HostArray } from './storage.js';
import { registerElementwiseKernels } from './elementwise.js';
import { registerLayoutKernels } from './layout.js';
import { registerReduceKernels } from './reduce.js';
import { registerNnKernels } from './nn.js';
import { registerMatmulKernel, setCpuGemm } from './matmul.js';
import { gemm } from './gemm/index.js';
import { registerActivationKernels } from './activations.js';

export { setCpuGemm, getCpuGemm, plainGemm, type Gemm, type GemmArgs } from './matmul.js';
export { gemm, gemmInfo, setGemmThreads, shutdownGemm } from './gemm/index.js';

let registered = false;

/** Registers the `cpu` backend and its kernels (idempotent). Storage is a Float32Array/Int32Array. */
export function registerCpuBackend(): void {
  if (registered) return;
  registered = true;
  registerElementwiseKernels();
  registerLayoutKernels();
  registerReduceKernels();
  registerNnKernels();
  registerMatmulKernel();
  // The WebAssembly SIMD GEMM (threaded); it picks plain JS itself only where wasm SIMD is absent.
  setCpuGemm(gemm);
  registerActivationKernels();
  registerBackend(
    CPU,
    () => ({
      name: CPU,
      fromHost: (values: HostArray) => values,
      toHost: (info: TensorInfo) => info.storage as HostArray,
      zeros: (size: number, dtype: DType) => (dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)),
    }),
    1,
  );
}
export { cpuKernelInfo, setCpuKernelPath, type CpuKernelInfo, type CpuKernelPath } from './simd/index.js';
