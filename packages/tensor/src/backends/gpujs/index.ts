/**
 * The gpujs backend of @retro/tensor: every kernel of the contract (engine/kernels.ts) as
 * gpu.js kernels, running in whichever gpu.js mode starts here (GL modes keep tensors in
 * textures between kernels; cpu and webasm keep host arrays).
 *
 * Mode: the factory option, else env RETRO_GPUJS_MODE (cpu | webasm | headlessgl | webgl2 |
 * webgl | webgpu | gpu), else the best mode that starts. A mode that was asked for and cannot
 * start throws, saying why; nothing falls back silently.
 */
import { getBackend, getBackendByName, kernelTable, registerBackend } from '../../engine/engine.js';
import { KERNELS, type KernelFunc, type KernelName, type KernelTable } from '../../engine/kernels.js';
import { WebgpuBackend } from './webgpu/backend.js';
import { acquireDevice } from './webgpu/device.js';
import { webgpuKernelGroups } from './webgpu/kernels.js';
import { GpujsBackend, type GpujsBackendOptions, type GpujsInfo } from './backend.js';
import { chooseMode, parseModeRequest, type GpujsModeRequest } from './modes.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { layoutKernels } from './kernels/layout.js';
import { matmulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';
import { embeddingKernels } from './kernels/embedding.js';
import { normKernels } from './kernels/norm.js';
import { softmaxKernels } from './kernels/softmax.js';
import { optimKernels } from './kernels/optim.js';
import { attentionKernels } from './kernels/attention.js';

export { GpujsBackend, type GpujsBackendOptions, type GpujsInfo } from './backend.js';
export { GPUJS_MODES, probeGpujsModes, type GpujsMode, type GpujsModeRequest } from './modes.js';
export { GpujsStorage } from './storage.js';
export { WebgpuBackend } from './webgpu/backend.js';

export interface GpujsBackendRegistration extends GpujsBackendOptions {
  /** Registered backend name (default 'gpujs'); TensorInfo.backend carries it. */
  name?: string;
  /** gpu.js mode; overrides RETRO_GPUJS_MODE. */
  mode?: GpujsModeRequest;
}

/** Every kernel of the contract as gpu.js programs (all modes but webgpu). */
const gpujsProgramKernels = kernelTable('gpujs', [
  elementwiseKernels,
  layoutKernels,
  matmulKernels,
  reduceKernels,
  embeddingKernels,
  normKernels,
  softmaxKernels,
  optimKernels,
  attentionKernels,
]);

/** Every kernel of the contract as WGSL (webgpu mode). */
const webgpuKernels = kernelTable('gpujs (webgpu)', webgpuKernelGroups);

/**
 * The backend's table: each kernel name runs the WGSL version in webgpu mode and the gpu.js
 * program otherwise. registerBackend checks the table is complete, so both families must be.
 */
const gpujsKernels = Object.fromEntries(
  (Object.values(KERNELS) as KernelName[]).map((kernel) => {
    const program = gpujsProgramKernels[kernel] as KernelFunc;
    const wgsl = webgpuKernels[kernel] as KernelFunc;
    if (typeof program !== 'function' || typeof wgsl !== 'function') {
      throw new Error(`gpujs backend: kernel ${kernel} lacks its ${typeof program !== 'function' ? 'gpu.js' : 'WGSL (webgpu mode)'} implementation`);
    }
    const byMode: KernelFunc = (inputs, attrs) => (getBackend() instanceof WebgpuBackend ? wgsl : program)(inputs, attrs);
    return [kernel, byMode];
  }),
) as KernelTable;

/**
 * Registers the gpujs backend and all its kernels. The mode is resolved when the backend is
 * first instantiated (setBackend), so RETRO_GPUJS_MODE is read then.
 */
export function registerGpujsBackend(options: GpujsBackendRegistration = {}): void {
  const name = options.name ?? 'gpujs';
  registerBackend(
    name,
    () => {
      const env = typeof process !== 'undefined' ? process.env?.RETRO_GPUJS_MODE : undefined;
      let request: GpujsModeRequest | 'default' = 'default';
      let source: GpujsInfo['source'] = 'default';
      if (options.mode) {
        request = parseModeRequest(options.mode, 'registerGpujsBackend({ mode })');
        source = 'option';
      } else if (env && env.trim().length > 0) {
        request = parseModeRequest(env, 'RETRO_GPUJS_MODE');
        source = 'env';
      }
      // WebGPU hands out its device through a Promise: this backend then starts asynchronously
      // (setBackendAsync), and its reads are asynchronous too.
      if (request === 'webgpu') return acquireDevice().then((device) => new WebgpuBackend(name, device));
      return new GpujsBackend(name, chooseMode(request), source, options);
    },
    gpujsKernels,
  );
}

/**
 * Mode and cache facts of a registered gpujs backend (instantiating it if needed, which
 * throws when its mode cannot start).
 */
export function gpujsInfo(name = 'gpujs'): GpujsInfo {
  const backend = getBackendByName(name);
  if (backend instanceof WebgpuBackend) return backend.info();
  if (!(backend instanceof GpujsBackend)) throw new Error(`gpujsInfo('${name}'): backend '${name}' is not a gpujs backend`);
  return backend.info();
}
