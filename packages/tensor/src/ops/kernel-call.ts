import { runKernel, getBackend } from '../engine/engine.js';
import type { DType, KernelAttrs, KernelName } from '../engine/kernels.js';
import { Tensor } from '../tensor.js';
import { trackBorn } from '../scope.js';

/** Runs a kernel on tensors and wraps its outputs as (grad-less) tensors. */
export function callKernel(name: KernelName, inputs: readonly Tensor[], attrs: KernelAttrs = {}): Tensor[] {
  const infos = inputs.map((input) => input.info);
  return runKernel(name, infos, attrs).map((info) => {
    trackBorn(info, infos);
    return new Tensor(info);
  });
}

export function callKernel1(name: KernelName, inputs: readonly Tensor[], attrs: KernelAttrs = {}): Tensor {
  return callKernel(name, inputs, attrs)[0];
}

/** A tensor holding `values` on the active backend (takes ownership of the array). */
export function fromHostArray(values: Float32Array | Int32Array, shape: readonly number[]): Tensor {
  const backend = getBackend();
  const dtype: DType = values instanceof Int32Array ? 'int32' : 'float32';
  const info = { storage: backend.fromHost(values), shape: [...shape], dtype, backend: backend.name };
  trackBorn(info);
  return new Tensor(info);
}
