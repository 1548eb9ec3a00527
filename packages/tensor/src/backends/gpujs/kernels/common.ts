/** What every gpujs kernel needs: the active backend, input checks, and output TensorInfos. */
import { getBackend } from '../../../engine/engine.js';
import type { DType, TensorInfo } from '../../../engine/kernels.js';
import { GpujsBackend } from '../backend.js';
import { formatShape, sizeOf } from '../../../shape.js';
import { GpujsStorage } from '../storage.js';

/** The backend running this kernel: runKernel only calls a backend's kernels while it is active. */
export function activeBackend(kernel: string): GpujsBackend {
  const backend = getBackend();
  if (!(backend instanceof GpujsBackend)) {
    throw new Error(`gpujs kernel ${kernel}: the active backend '${backend.name}' is not a gpujs backend`);
  }
  return backend;
}

export function expectInputs(kernel: string, inputs: readonly TensorInfo[], min: number, max = min): void {
  if (inputs.length < min || inputs.length > max) {
    const want = min === max ? `${min}` : `${min}..${max}`;
    throw new Error(`gpujs kernel ${kernel}: expected ${want} inputs, got ${inputs.length}`);
  }
}

export function expectSameShape(kernel: string, what: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new Error(`gpujs kernel ${kernel}: ${what} must have the same shape, got ${formatShape(a)} and ${formatShape(b)}`);
  }
}

/** A storage of `size` zeros (no kernel for size 0). */
export function zerosStorage(backend: GpujsBackend, size: number): GpujsStorage {
  return backend.zeros(size, 'float32') as GpujsStorage;
}

export function out(backend: GpujsBackend, storage: GpujsStorage, shape: readonly number[], dtype: DType = 'float32'): TensorInfo {
  if (storage.size !== sizeOf(shape)) {
    throw new Error(`gpujs: internal error, storage of ${storage.size} values for shape ${formatShape(shape)}`);
  }
  return { storage, shape: [...shape], dtype, backend: backend.name };
}
