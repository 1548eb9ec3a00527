/**
 * The gpujs backend's `webgpu` mode: tensors live in GPU storage buffers between kernels, kernels
 * are WGSL compute shaders (./kernels.ts) queued on one command encoder, and values come back to
 * the host only through `read` / `readMany` (Promises: WebGPU maps buffers asynchronously). A
 * synchronous read works only for values that came from the host (ids, masks, labels keep their
 * host copy); anything computed on the device throws, naming the asynchronous call to use.
 *
 * Device errors: dawn.node refuses both `onuncapturederror` and an 'uncapturederror' listener, so
 * every batch of work runs inside validation and out-of-memory error scopes, and the next read
 * rejects with what they caught; kernels that meet a bad index (Gather, ScatterAdd,
 * CrossEntropy) raise a flag in a small device buffer that every read transfers too.
 */
import type { Backend, BackendMemory } from '../../../engine/engine.js';
import type { DType, Storage, TensorInfo } from '../../../engine/kernels.js';
import { formatShape } from '../../../shape.js';
import type { GpujsInfo } from '../backend.js';
import { BufferUsage, MAP_READ, type AcquiredDevice, type GpuBuffer, type GpuDevice, type GpuEncoder, type GpuPipeline } from './device.js';

export type HostArray = Float32Array | Int32Array;

/** A tensor's buffer on the device, plus the host values it was uploaded from, while valid. */
export class WebgpuStorage {
  /** The uploaded values (valid until an in-place kernel writes the buffer). */
  hostCache: HostArray | null = null;
  disposed = false;
  constructor(
    readonly buffer: GpuBuffer,
    /** Elements (the buffer holds at least 4 bytes, even for size 0). */
    readonly size: number,
    readonly dtype: DType,
  ) {}
}

/** Flag slots of the device error buffer, one per kernel that checks indices on the device. */
export const FLAG = { Gather: 0, ScatterAdd: 1, CrossEntropy: 2 } as const;
const FLAG_MESSAGES = [
  'Gather: an id fell outside [0, V) of the embedding table (its row came out as zeros)',
  'ScatterAdd: an id fell outside [0, V) (its gradient was dropped)',
  'CrossEntropy: a label fell outside [0, C) and is not ignoreIndex',
];

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export interface Dispatch {
  /** Kernel name, for error messages. */
  name: string;
  /** WGSL source with one `main` entry point; the pipeline cache is keyed by it. */
  code: string;
  /** Buffers in binding order (@group(0) @binding(i)). */
  buffers: readonly GpuBuffer[];
  /** Workgroup counts. */
  groups: readonly [number, number, number];
}

export class WebgpuBackend implements Backend {
  readonly mode = 'webgpu' as const;
  readonly asyncReads = true;
  readonly device: GpuDevice;
  readonly description: string;
  /** The device error flags (FLAG slots), read with every transfer. */
  readonly flags: GpuBuffer;
  private readonly pipelines = new Map<string, GpuPipeline>();
  private encoder: GpuEncoder | null = null;
  private queued = 0;
  private scopeOpen = false;
  private readonly scopeChecks: Promise<string | null>[] = [];
  private readonly afterSubmit: GpuBuffer[] = [];
  private lostReason: string | null = null;
  private liveBytes = 0;
  private peakBytes = 0;
  private liveBuffers = 0;
  private compilations = 0;
  private dispatches = 0;
  private transfers = 0;
  /** Bytes freed by GC finalisation (never disposed), in all and since `resetPeak()`. */
  private collectedBytes = 0;
  private collectedSinceReset = 0;
  private peakWithoutGcBytes = 0;
  private readonly finalizer = new FinalizationRegistry<{ buffer: GpuBuffer; bytes: number }>((held) => {
    this.collectedBytes += held.bytes;
    this.collectedSinceReset += held.bytes;
    this.release(held.buffer, held.bytes);
  });
  private readonly owned = new WeakMap<WebgpuStorage, { buffer: GpuBuffer; bytes: number }>();

  constructor(
    readonly name: string,
    acquired: AcquiredDevice,
  ) {
    this.device = acquired.device;
    this.description = acquired.description;
    this.flags = this.device.createBuffer({ size: 16, usage: STORAGE_USAGE, label: 'retro error flags' });
    void this.device.lost.then((info) => {
      this.lostReason = `${info.reason ?? 'unknown'}: ${info.message}`;
    });
  }

  // ------------------------------------------------------------------ Backend contract

  fromHost(values: HostArray): Storage {
    const storage = this.allocate(values.length, values instanceof Int32Array ? 'int32' : 'float32', values);
    storage.hostCache = values;
    return storage;
  }

  zeros(size: number, dtype: DType): Storage {
    // WebGPU zero-fills every new buffer.
    return this.allocate(size, dtype);
  }

  toHost(info: TensorInfo): HostArray {
    const storage = this.storageOf(info, 'toHost');
    if (storage.hostCache) return this.typed(storage.hostCache, info.dtype);
    throw new Error(
      `synchronous read of a ${formatShape(info.shape)} ${info.dtype} tensor: backend '${this.name}' (mode webgpu) keeps ` +
        'computed values on the device and reads them back asynchronously; use `await tensor.data()` or ' +
        '`await tensor.itemAsync()` (or `await readTensors([...])` for several in one transfer)',
    );
  }

  async read(info: TensorInfo): Promise<HostArray> {
    return (await this.readMany([info]))[0];
  }

  /** All of `infos` in one transfer (one staging buffer, one map), plus the error flags. */
  async readMany(infos: readonly TensorInfo[]): Promise<HostArray[]> {
    const storages = infos.map((info) => this.storageOf(info, 'read'));
    const sizes = storages.map((s) => s.size * 4);
    const total = sizes.reduce((a, b) => a + b, 0) + 16;
    const staging = this.device.createBuffer({ size: total, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'retro readback' });
    const encoder = this.currentEncoder();
    let offset = 0;
    storages.forEach((storage, i) => {
      if (sizes[i] > 0) encoder.copyBufferToBuffer(storage.buffer, 0, staging, offset, sizes[i]);
      offset += sizes[i];
    });
    encoder.copyBufferToBuffer(this.flags, 0, staging, offset, 16);
    this.flush();
    this.transfers++;
    try {
      await staging.mapAsync(MAP_READ);
    } catch (error) {
      await this.throwDeviceErrors();
      throw error;
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    await this.throwDeviceErrors();
    const flags = new Uint32Array(bytes, offset, 4);
    const raised = [...flags].map((flag, i) => (flag !== 0 ? FLAG_MESSAGES[i] : null)).filter(Boolean);
    if (raised.length > 0) {
      // Clear them so one bad batch is reported once.
      const zero = this.device.createBuffer({ size: 16, usage: BufferUsage.COPY_SRC, label: 'retro zero flags' });
      this.currentEncoder().copyBufferToBuffer(zero, 0, this.flags, 0, 16);
      this.afterSubmit.push(zero);
      this.flush();
      throw new Error(`gpujs (mode webgpu): a kernel since the last read met bad input: ${raised.join('; ')}`);
    }
    let start = 0;
    return storages.map((storage, i) => {
      const slice = bytes.slice(start, start + sizes[i]);
      start += sizes[i];
      const values = infos[i].dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
      // Kept as the host copy (until an in-place kernel writes the buffer): after
      // `await readTensors(ts)`, synchronous code (stateDict, savePretrained) can read them.
      storage.hostCache = values;
      return values;
    });
  }

  dispose(info: TensorInfo): void {
    const storage = info.storage;
    if (!(storage instanceof WebgpuStorage) || storage.disposed) return;
    storage.disposed = true;
    const held = this.owned.get(storage);
    if (!held) return;
    this.owned.delete(storage);
    this.finalizer.unregister(storage);
    this.release(held.buffer, held.bytes);
  }

  memory(): BackendMemory {
    return {
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      liveBuffers: this.liveBuffers,
      peakWithoutGcBytes: this.peakWithoutGcBytes,
      collectedBytes: this.collectedBytes,
    };
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
    this.collectedSinceReset = 0;
    this.peakWithoutGcBytes = this.liveBytes;
  }

  /** gpujsInfo() of this backend: the GL-only fields are null/0, the webgpu ones filled. */
  info(source: GpujsInfo['source'] = 'option'): GpujsInfo {
    return {
      name: this.name,
      mode: this.mode,
      requested: 'webgpu',
      source,
      deviceResident: true,
      simd: null,
      threaded: false,
      maxTextureSize: null,
      emulatedGl: false,
      compiledKernels: this.pipelines.size,
      compilations: this.compilations,
      flatCompilations: 0,
      inlineCompilations: 0,
      skipped: {},
      device: this.description,
      dispatches: this.dispatches,
      transfers: this.transfers,
      memory: this.memory(),
    };
  }

  // ------------------------------------------------------------------ for kernels

  storageOf(info: TensorInfo, where: string): WebgpuStorage {
    const storage = info.storage;
    if (!(storage instanceof WebgpuStorage)) {
      throw new Error(`gpujs webgpu ${where}: a ${formatShape(info.shape)} tensor from backend '${info.backend}' has no WebGPU buffer`);
    }
    if (storage.disposed) throw new Error(`gpujs webgpu ${where}: a ${formatShape(info.shape)} tensor was used after dispose`);
    return storage;
  }

  /** A new device buffer of `size` elements, zero-filled or holding `values`. */
  allocate(size: number, dtype: DType, values?: HostArray): WebgpuStorage {
    const bytes = Math.max(4, size * 4);
    this.openScope();
    const buffer = this.device.createBuffer({ size: bytes, usage: STORAGE_USAGE, mappedAtCreation: values !== undefined });
    if (values) {
      const target = dtype === 'int32' ? new Int32Array(buffer.getMappedRange()) : new Float32Array(buffer.getMappedRange());
      target.set(values);
      buffer.unmap();
    }
    const storage = new WebgpuStorage(buffer, size, dtype);
    const held = { buffer, bytes };
    this.owned.set(storage, held);
    this.finalizer.register(storage, held, storage);
    this.liveBytes += bytes;
    this.liveBuffers++;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    this.peakWithoutGcBytes = Math.max(this.peakWithoutGcBytes, this.liveBytes + this.collectedSinceReset);
    return storage;
  }

  /** A short-lived read-only buffer of kernel parameters (destroyed after the next submit). */
  params(words: readonly { f?: number; u?: number; i?: number }[]): GpuBuffer {
    this.openScope();
    const buffer = this.device.createBuffer({ size: Math.max(4, words.length * 4), usage: BufferUsage.STORAGE, mappedAtCreation: true });
    const view = new DataView(buffer.getMappedRange());
    words.forEach((word, k) => {
      if (word.f !== undefined) view.setFloat32(k * 4, word.f, true);
      else if (word.i !== undefined) view.setInt32(k * 4, word.i, true);
      else view.setUint32(k * 4, word.u ?? 0, true);
    });
    buffer.unmap();
    this.afterSubmit.push(buffer);
    return buffer;
  }

  /** Queues one compute dispatch. */
  run(dispatch: Dispatch): void {
    const [x, y, z] = dispatch.groups;
    if (x === 0 || y === 0 || z === 0) return;
    let pipeline = this.pipelines.get(dispatch.code);
    if (!pipeline) {
      this.openScope();
      const module = this.device.createShaderModule({ code: dispatch.code, label: dispatch.name });
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: dispatch.name });
      this.pipelines.set(dispatch.code, pipeline);
      this.compilations++;
    }
    const group = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: dispatch.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = this.currentEncoder().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatches++;
    // Submitting now and then keeps the device busy while the host builds the next kernels.
    if (++this.queued >= 64) this.flush();
  }

  /** Submits everything queued. */
  flush(): void {
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.queued = 0;
    }
    for (const buffer of this.afterSubmit.splice(0)) buffer.destroy();
    if (this.scopeOpen) {
      this.scopeOpen = false;
      const outOfMemory = this.device.popErrorScope();
      const validation = this.device.popErrorScope();
      this.scopeChecks.push(
        Promise.all([validation, outOfMemory]).then(([v, o]) => (o ? `out of device memory: ${o.message}` : v ? `validation: ${v.message}` : null)),
      );
    }
  }

  /** Resolves once the device has run everything submitted; rejects with any device error. */
  async synchronize(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwDeviceErrors();
  }

  // ------------------------------------------------------------------ internals

  private typed(values: HostArray, dtype: DType): HostArray {
    if (dtype === 'int32') return values instanceof Int32Array ? values : Int32Array.from(values, Math.trunc);
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }

  private currentEncoder(): GpuEncoder {
    this.openScope();
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private openScope(): void {
    if (this.scopeOpen) return;
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    this.scopeOpen = true;
  }

  private async throwDeviceErrors(): Promise<void> {
    const found = (await Promise.all(this.scopeChecks.splice(0))).filter(Boolean);
    if (this.lostReason) found.unshift(`device lost (${this.lostReason})`);
    if (found.length > 0) throw new Error(`gpujs (mode webgpu): WebGPU reported ${found.length} error(s) since the last read: ${found.join('; ')}`);
  }

  private release(buffer: GpuBuffer, bytes: number): void {
    this.liveBytes -= bytes;
    this.liveBuffers--;
    // A buffer a queued (unsubmitted) command still uses may only go after the submit.
    if (this.encoder) this.afterSubmit.push(buffer);
    else buffer.destroy();
  }
}
