import type { DType, TensorInfo } from '../../engine/kernels.js';

export const CPU = 'cpu';

export type HostArray = Float32Array | Int32Array;

export function values(info: TensorInfo): HostArray {
  return info.storage as HostArray;
}

export function floats(info: TensorInfo): Float32Array {
  const storage = info.storage as HostArray;
  return storage instanceof Float32Array ? storage : Float32Array.from(storage);
}

export function output(data: HostArray, shape: readonly number[]): TensorInfo {
  const dtype: DType = data instanceof Int32Array ? 'int32' : 'float32';
  return { storage: data, shape: [...shape], dtype, backend: CPU };
}
