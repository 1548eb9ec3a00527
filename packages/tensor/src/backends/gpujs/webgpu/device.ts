/**
 * The slice of the WebGPU API the webgpu mode uses, typed locally (the package carries no
 * @webgpu/types dependency), and how a device is found: the browser's navigator.gpu, or in Node
 * the `webgpu` package (dawn.node), which needs glibc >= 2.38.
 */

export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;

export interface GpuBuffer {
  readonly size: number;
  destroy(): void;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
}

export interface GpuComputePass {
  setPipeline(pipeline: GpuPipeline): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuEncoder {
  beginComputePass(descriptor?: object): GpuComputePass;
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, target: GpuBuffer, targetOffset: number, size: number): void;
  finish(): unknown;
}

export interface GpuPipeline {
  getBindGroupLayout(index: number): unknown;
}

export interface GpuError {
  readonly message: string;
}

export interface GpuDevice {
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): GpuBuffer;
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string }; label?: string }): GpuPipeline;
  createBindGroup(descriptor: { layout: unknown; entries: Array<{ binding: number; resource: { buffer: GpuBuffer } }> }): unknown;
  createCommandEncoder(): GpuEncoder;
  readonly queue: { submit(buffers: unknown[]): void; onSubmittedWorkDone(): Promise<void> };
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuError | null>;
  readonly lost: Promise<{ message: string; reason?: string }>;
  readonly limits: Record<string, number>;
  destroy(): void;
}

interface GpuAdapter {
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
  readonly limits: Record<string, number>;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

export interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}

export interface AcquiredDevice {
  device: GpuDevice;
  /** Where the device came from and what it is, for gpujsInfo and error messages. */
  description: string;
}

/** navigator.gpu where the runtime has it; else, in Node, the `webgpu` package's dawn.node. */
async function findGpu(): Promise<{ gpu: GpuEntry; via: string }> {
  const fromNavigator = (globalThis as { navigator?: { gpu?: GpuEntry } }).navigator?.gpu;
  if (fromNavigator) return { gpu: fromNavigator, via: 'navigator.gpu' };
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) throw new Error('navigator.gpu is missing: this browser has no WebGPU (Chrome/Chromium 113+; headless needs --enable-unsafe-webgpu)');
  let module: { create?: (flags: string[]) => GpuEntry; globals?: object };
  try {
    // A variable specifier keeps bundlers from resolving this optional, Node-only package.
    const name = 'webgpu';
    module = (await import(/* @vite-ignore */ name)) as typeof module;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(
      `Node has no WebGPU here: the 'webgpu' package (dawn.node) did not load (${reason}). ` +
        'Install it with `npm install webgpu`; its binary needs glibc >= 2.38 and a Vulkan driver',
    );
  }
  if (typeof module.create !== 'function') throw new Error("the 'webgpu' package loaded but exports no create(): expected webgpu >= 0.2");
  if (module.globals) Object.assign(globalThis, module.globals);
  return { gpu: module.create([]), via: "Node 'webgpu' (dawn.node)" };
}

/** A device with the adapter's storage-buffer limits (default limits cap bindings at 128 MiB). */
export async function acquireDevice(): Promise<AcquiredDevice> {
  const { gpu, via } = await findGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`${via}: requestAdapter() found no WebGPU adapter`);
  const wanted = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension'];
  const requiredLimits: Record<string, number> = {};
  for (const key of wanted) if (typeof adapter.limits[key] === 'number') requiredLimits[key] = adapter.limits[key];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info;
  const what = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : '';
  return { device, description: `${via}${what ? `: ${what}` : ''}` };
}
