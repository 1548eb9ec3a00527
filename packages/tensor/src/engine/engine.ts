import {
  IN_PLACE_INPUTS,
  KERNELS,
  resolveKernelAttrs,
  type DType,
  type KernelAttrs,
  type KernelFunc,
  type KernelName,
  type KernelTable,
  type Storage,
  type TensorInfo,
} from './kernels.js';

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
}

const backendEntries = new Map<string, BackendEntry>();
const kernelRegistry = new Map<string, KernelFunc>();
let activeBackend: Backend | undefined;

function kernelKey(backendName: string, kernelName: string): string {
  return `${backendName}/${kernelName}`;
}

/**
 * Makes a backend available to `setBackend`, with its implementation of every kernel of the
 * contract: the one registration path for all backends, so a backend missing a kernel fails here,
 * at registration, naming it, rather than at the first op that needs it.
 */
export function registerBackend(name: string, factory: BackendFactory, kernels: KernelTable): void {
  const names = Object.values(KERNELS) as KernelName[];
  const missing = names.filter((kernel) => typeof kernels[kernel] !== 'function');
  if (missing.length > 0) throw new Error(`registerBackend('${name}'): no kernel for ${missing.join(', ')}`);
  const unknown = Object.keys(kernels).filter((kernel) => !(names as string[]).includes(kernel));
  if (unknown.length > 0) throw new Error(`registerBackend('${name}'): ${unknown.join(', ')} are not kernels of the contract (engine/kernels.ts)`);
  backendEntries.set(name, { factory });
  for (const kernel of names) kernelRegistry.set(kernelKey(name, kernel), kernels[kernel] as KernelFunc);
}

/**
 * Merges one backend's kernel groups (one per source file) into its table, refusing a kernel
 * defined twice; registerBackend then checks that nothing is missing.
 */
export function kernelTable(backendName: string, groups: readonly Partial<KernelTable>[]): KernelTable {
  const table: Partial<Record<KernelName, KernelFunc>> = {};
  for (const group of groups) {
    for (const [kernel, func] of Object.entries(group) as [KernelName, KernelFunc][]) {
      if (table[kernel]) throw new Error(`${backendName}: kernel ${kernel} is defined twice`);
      table[kernel] = func;
    }
  }
  return table as KernelTable;
}

/** Replaces one kernel of a registered backend (a benchmark's or test's alternative implementation). */
export function registerKernel<K extends KernelName>(backendName: string, kernelName: K, kernel: KernelFunc<K>): void {
  if (!backendEntries.has(backendName)) {
    throw new Error(`registerKernel('${backendName}', '${kernelName}'): register the backend first (registerBackend)`);
  }
  kernelRegistry.set(kernelKey(backendName, kernelName), kernel as KernelFunc);
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

/** Receives the wall time of every kernel call while installed (see `setKernelProfiler`). */
export type KernelProfiler = (kernelName: KernelName, milliseconds: number, inputs: readonly TensorInfo[]) => void;

let profiler: KernelProfiler | null = null;

/** Installs (or with null removes) a per-kernel timing hook; costs nothing when absent. */
export function setKernelProfiler(hook: KernelProfiler | null): void {
  profiler = hook;
}

/**
 * Runs `kernelName` on the active backend with its attrs checked and defaulted (KERNEL_ATTRS).
 * Inputs living on another backend are moved here first, except those an in-place kernel writes:
 * a moved copy would take the write and the caller's tensor would silently keep its old values.
 */
export function runKernel(kernelName: KernelName, inputs: readonly TensorInfo[], attrs: KernelAttrs = {}): TensorInfo[] {
  const backend = getBackend();
  const kernel = kernelRegistry.get(kernelKey(backend.name, kernelName));
  if (!kernel) {
    throw new Error(`runKernel('${kernelName}'): backend '${backend.name}' registers no such kernel`);
  }
  const written = IN_PLACE_INPUTS[kernelName];
  if (written) {
    for (const index of written) {
      const input = inputs[index];
      if (input && input.backend !== backend.name) {
        throw new Error(
          `runKernel('${kernelName}'): input ${index} (shape [${input.shape.join(', ')}]) lives on backend '${input.backend}', ` +
            `but this kernel writes it in place on the active backend '${backend.name}'; move it first (tensor.toActiveBackend())`,
        );
      }
    }
  }
  const resolved = resolveKernelAttrs(kernelName, attrs);
  const local = inputs.map((input) => toBackend(input, backend));
  if (!profiler) return kernel(local, resolved);
  const start = performance.now();
  const outputs = kernel(local, resolved);
  profiler(kernelName, performance.now() - start, local);
  return outputs;
}
