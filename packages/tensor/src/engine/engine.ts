import type { DType, KernelAttrs, KernelFunc, KernelName, Storage, TensorInfo } from './kernels.js';

/** A place tensors live and kernels run: it owns storage and nothing else. */
export interface Backend {
  readonly name: string;
  /** Takes ownership of `values` (or copies them) and returns a storage holding them. */
  fromHost(values: Float32Array | Int32Array): Storage;
  /** The values of `storage` on the host. Callers must not mutate the returned array. */
  toHost(info: TensorInfo): Float32Array | Int32Array;
  /** A zero-filled storage of `size` elements. */
  zeros(size: number, dtype: DType): Storage;
  /** Frees device memory early; optional because GC reclaims host arrays. */
  dispose?(info: TensorInfo): void;
}

/** Builds a backend, or throws an Error saying why it cannot start here. */
export type BackendFactory = () => Backend;

interface BackendEntry {
  factory: BackendFactory;
  instance?: Backend;
  priority: number;
}

const backendEntries = new Map<string, BackendEntry>();
const kernelRegistry = new Map<string, KernelFunc>();
let activeBackend: Backend | undefined;

function kernelKey(backendName: string, kernelName: string): string {
  return `${backendName}/${kernelName}`;
}

/** Makes a backend available to `setBackend`; the higher the priority, the likelier the default. */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  backendEntries.set(name, { factory, priority });
}

export function registerKernel(backendName: string, kernelName: KernelName, kernel: KernelFunc): void {
  kernelRegistry.set(kernelKey(backendName, kernelName), kernel);
}

export function hasKernel(backendName: string, kernelName: KernelName): boolean {
  return kernelRegistry.has(kernelKey(backendName, kernelName));
}

export function registeredBackends(): string[] {
  return [...backendEntries.keys()];
}

function instantiate(name: string): Backend {
  const entry = backendEntries.get(name);
  if (!entry) {
    throw new Error(
      `setBackend('${name}'): no such backend; registered backends are ${registeredBackends().join(', ') || '(none)'}`,
    );
  }
  if (!entry.instance) {
    try {
      entry.instance = entry.factory();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`setBackend('${name}'): the backend cannot start here: ${reason}`);
    }
  }
  return entry.instance;
}

/**
 * Selects the backend that runs every following op. Throws (never falls back) when the
 * backend is unknown or cannot start.
 */
export function setBackend(name: string): Backend {
  activeBackend = instantiate(name);
  return activeBackend;
}

/** The backend ops run on: the one set last, else `RETRO_BACKEND`, else the default ('cpu'). */
export function getBackend(): Backend {
  if (!activeBackend) {
    const fromEnv = typeof process !== 'undefined' ? process.env?.RETRO_BACKEND : undefined;
    activeBackend = instantiate(fromEnv && fromEnv.length > 0 ? fromEnv : 'cpu');
  }
  return activeBackend;
}

export function getBackendByName(name: string): Backend {
  return instantiate(name);
}

/** Moves `info` to `backend` through the host when it lives elsewhere. */
export function toBackend(info: TensorInfo, backend: Backend): TensorInfo {
  if (info.backend === backend.name) return info;
  const host = getBackendByName(info.backend).toHost(info);
  const copy = info.dtype === 'float32' ? new Float32Array(host) : new Int32Array(host);
  return { storage: backend.fromHost(copy), shape: info.shape, dtype: info.dtype, backend: backend.name };
}

/** Receives the wall time of every kernel call while installed (see `profileKernels`). */
export type KernelProfiler = (kernelName: KernelName, milliseconds: number, inputs: readonly TensorInfo[]) => void;

let profiler: KernelProfiler | null = null;

/** Installs (or with null removes) a per-kernel timing hook; costs nothing when absent. */
export function setKernelProfiler(hook: KernelProfiler | null): void {
  profiler = hook;
}

/** Runs `kernelName` on the active backend, moving inputs there first if needed. */
export function runKernel(kernelName: KernelName, inputs: readonly TensorInfo[], attrs: KernelAttrs = {}): TensorInfo[] {
  const backend = getBackend();
  const kernel = kernelRegistry.get(kernelKey(backend.name, kernelName));
  if (!kernel) {
    throw new Error(`runKernel('${kernelName}'): backend '${backend.name}' registers no such kernel`);
  }
  const local = inputs.map((input) => toBackend(input, backend));
  if (!profiler) return kernel(local, attrs);
  const start = performance.now();
  const outputs = kernel(local, attrs);
  profiler(kernelName, performance.now() - start, local);
  return outputs;
}
