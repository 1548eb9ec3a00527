import { registerBackend } from '../../engine/engine.js';
import type { DType, TensorInfo } from '../../engine/kernels.js';
import { CPU, type HostArray } from './storage.js';
import { registerElementwiseKernels } from './elementwise.js';
import { registerLayoutKernels } from './layout.js';
import { registerReduceKernels } from './reduce.js';
import { registerNnKernels } from './nn.js';
import { registerMatmulKernel } from './matmul.js';
import { registerActivationKernels } from './activations.js';

export { setCpuGemm, getCpuGemm, plainGemm, type Gemm, type GemmArgs } from './matmul.js';

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
