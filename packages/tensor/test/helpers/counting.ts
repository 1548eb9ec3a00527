/**
 * The gpujs backend's webgpu mode on a counting WebGPU device (no shader runs, every buffer is
 * counted; see countingGpu): device memory accounting without a GPU. Values computed on it read
 * back as zeros, so tests here check lifetimes and bytes, never arithmetic.
 */
import { countingGpu, registerGpujsBackend, setBackend, setBackendAsync, WebgpuBackend, type CountingTotals } from '../../src/index.js';

export interface CountingBackend {
  backend: WebgpuBackend;
  totals: CountingTotals;
  /** Back to the cpu backend, and the runtime's own navigator. */
  restore(): void;
}

let registered = 0;

/** Registers and selects a fresh webgpu-mode backend on a counting device (a new name per call). */
export async function useCountingWebgpu(): Promise<CountingBackend> {
  const { gpu, totals } = countingGpu();
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const name = `counting-webgpu-${++registered}`;
  registerGpujsBackend({ name, mode: 'webgpu' });
  const backend = await setBackendAsync(name);
  if (!(backend instanceof WebgpuBackend)) throw new Error(`useCountingWebgpu: backend '${name}' did not start in webgpu mode`);
  return {
    backend,
    totals,
    restore() {
      setBackend('cpu');
      if (previous) Object.defineProperty(globalThis, 'navigator', previous);
      else delete (globalThis as { navigator?: unknown }).navigator;
    },
  };
}
