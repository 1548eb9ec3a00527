import { registerCpuBackend } from './backends/cpu/index.js';
import { registerGpujsBackend } from './backends/gpujs/index.js';

registerCpuBackend();
registerGpujsBackend();

export { Tensor, readTensors, type BackwardOptions, type TensorData, type TensorOptions, type NestedArray, type MatmulOptions, type GradNode, type RowGradient } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { scope, keep, scopeDepth } from './scope.js';
// The one generator of every package (@retro/random), re-exported so model code needs one import.
export { Generator, deriveSeed, type GeneratorState, type RandomSource } from '@retro/random';
export {
  setBackend,
  setBackendAsync,
  backendMemory,
  getBackend,
  registerBackend,
  registerKernel,
  registeredBackends,
  runKernel,
  setKernelProfiler,
  type KernelProfiler,
  type Backend,
  type BackendMemory,
} from './engine/engine.js';
export { KERNELS, type KernelName, type TensorInfo, type DType, type KernelFunc } from './engine/kernels.js';
export * from './ops/index.js';
export { formatShape, sizeOf, broadcastShapes } from './shape.js';
export {
  setCpuGemm,
  getCpuGemm,
  plainGemm,
  gemm,
  gemmInfo,
  gemmLastRun,
  gemmReady,
  setGemmOptions,
  setGemmThreads,
  shutdownGemm,
  cpuKernelInfo,
  setCpuKernelPath,
  setCpuBufferRecycling,
  cpuBufferRecycling,
  cpuBufferPoolStats,
  cpuStateMemoryStats,
  type Gemm,
  type GemmArgs,
  type GemmInfo,
  type GemmOptions,
  type CpuKernelInfo,
  type CpuKernelPath,
} from './backends/cpu/index.js';
export * as nn from './nn/index.js';
export { Module, Linear, LayerNorm, Embedding, Dropout, multiHeadAttention, additiveMask, MASK_MIN } from './nn/index.js';
export { registerGpujsBackend, gpujsInfo, probeGpujsModes, WebgpuBackend, type GpujsInfo } from './backends/gpujs/index.js';
export { countingGpu, type CountingTotals } from './backends/gpujs/webgpu/counting-device.js';
