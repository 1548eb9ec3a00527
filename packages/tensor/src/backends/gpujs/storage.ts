/** What a gpujs storage holds: a host typed array (cpu, webasm) or a gpu.js texture (GL modes). */
export type HostArray = Float32Array | Int32Array;

/** The slice of gpu.js's Texture this backend uses (GL modes, `pipeline: true` outputs). */
export interface GpujsTexture {
  toArray(): unknown;
  delete(): void;
  readonly output: readonly number[];
}

/**
 * A tensor's values on the gpujs backend. Mutable on purpose: the in-place kernels
 * (AdamW, AddInPlace) must update what `TensorInfo.storage` reads even where the values live
 * in immutable textures, so they swap `data` (GL) or overwrite it element-wise (host modes).
 */
export class GpujsStorage {
  /** Host copy of GL-resident data, valid until `data` changes. Int view of host data likewise. */
  hostCache: HostArray | null = null;
  /** `data` converted to Int32Array for int32 tensors stored as floats (Cast results). */
  intCache: Int32Array | null = null;
  private disposed = false;

  constructor(
    public data: HostArray | GpujsTexture,
    /** Number of elements (the producing kernel's output may be padded; this is not). */
    public readonly size: number,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Replaces the values (in-place kernels on GL); frees the previous texture. */
  replace(data: HostArray | GpujsTexture): void {
    const previous = this.data;
    this.data = data;
    this.hostCache = null;
    this.intCache = null;
    if (previous !== data && isTexture(previous)) previous.delete();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (isTexture(this.data)) this.data.delete();
    this.data = new Float32Array(0);
    this.hostCache = null;
    this.intCache = null;
  }
}

export function isHostArray(value: unknown): value is HostArray {
  return value instanceof Float32Array || value instanceof Int32Array;
}

export function isTexture(value: unknown): value is GpujsTexture {
  return !isHostArray(value) && typeof value === 'object' && value !== null && typeof (value as GpujsTexture).toArray === 'function';
}
