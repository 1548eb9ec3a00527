/**
 * A WebGPU device that runs no shader and counts buffers: for measuring how much device memory the
 * gpujs webgpu backend asks for, at model sizes a software adapter (SwiftShader) cannot step through
 * in reasonable time, and for checking, on a machine without WebGPU, that a program drives the
 * webgpu backend end to end (no synchronous read, no silent fallback to the cpu backend).
 * Install it where the backend looks for a device: `globalThis.navigator = { gpu }`.
 *
 *   const { gpu, totals } = countingGpu();
 *   globalThis.navigator = { gpu };
 *   registerGpujsBackend({ mode: 'webgpu' }); await setBackendAsync('gpujs');
 *
 * Tests use it to check what training frees (packages/train/test/device-memory.test.ts). Every
 * buffer the backend creates goes through createBuffer here, so the
 * backend's own accounting (`backendMemory()`) and this device's totals see the same bytes; values
 * read back are zeros (losses read as 0), so only allocation, never arithmetic, is measured.
 */

export interface CountingTotals {
  /** Bytes of buffers created and not destroyed. */
  liveBytes: number;
  /** Bytes of every buffer ever created (monotone). */
  createdBytes: number;
  buffers: number;
  dispatches: number;
}

/** navigator.gpu look-alike whose one adapter hands out a counting device; `totals` is live. */
export function countingGpu(limitBytes = 2 ** 31 - 4): { gpu: object; totals: CountingTotals } {
  const totals: CountingTotals = { liveBytes: 0, createdBytes: 0, buffers: 0, dispatches: 0 };
  const limits = {
    maxStorageBufferBindingSize: limitBytes,
    maxBufferSize: limitBytes,
    maxStorageBuffersPerShaderStage: 10,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupSizeZ: 64,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupStorageSize: 16384,
  };
  const device = {
    limits,
    lost: new Promise<never>(() => {}),
    queue: {
      submit(): void {},
      onSubmittedWorkDone: async (): Promise<void> => {},
      writeBuffer(): void {},
    },
    createBuffer({ size }: { size: number }) {
      if (size > limitBytes) throw new Error(`counting device: a ${size}-byte buffer exceeds maxBufferSize ${limitBytes}`);
      totals.liveBytes += size;
      totals.createdBytes += size;
      totals.buffers++;
      let destroyed = false;
      let mapped: ArrayBuffer | null = null;
      return {
        size,
        destroy(): void {
          if (destroyed) return;
          destroyed = true;
          totals.liveBytes -= size;
        },
        mapAsync: async (): Promise<void> => {},
        getMappedRange: (): ArrayBuffer => (mapped ??= new ArrayBuffer(size)),
        unmap(): void {
          mapped = null;
        },
      };
    },
    createShaderModule: () => ({}),
    createComputePipeline: () => ({ getBindGroupLayout: () => ({}) }),
    createBindGroup: () => ({}),
    createCommandEncoder: () => ({
      beginComputePass: () => ({
        setPipeline(): void {},
        setBindGroup(): void {},
        dispatchWorkgroups(): void {
          totals.dispatches++;
        },
        end(): void {},
      }),
      copyBufferToBuffer(): void {},
      clearBuffer(): void {},
      finish: () => ({}),
    }),
    pushErrorScope(): void {},
    popErrorScope: async (): Promise<null> => null,
    destroy(): void {},
  };
  const adapter = {
    limits,
    info: { vendor: 'retro', description: 'counting device (no shader runs; allocation only)' },
    requestDevice: async () => device,
  };
  return { gpu: { requestAdapter: async () => adapter }, totals };
}
