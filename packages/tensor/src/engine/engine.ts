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

/** Device memory a backend holds through tensors it allocated (its own accounting). */
export interface BackendMemory {
  /** Bytes of buffers alive now (freed on dispose, or when the tensor is garbage collected). */
  liveBytes: number;
  /** Most bytes alive at once since the backend started or `resetPeak()`. */
  peakBytes: number;
  liveBuffers: number;
  /**
   * Most bytes that would have been alive at once since the start or `resetPeak()` had garbage
   * collection freed nothing (explicit disposes and scopes only): a peak that no GC timing can
   * raise. Equals `peakBytes` when GC freed nothing meanwhile.
   */
  peakWithoutGcBytes?: number;
  /** Bytes freed because GC finalised a tensor never disposed, since the start. */
  collectedBytes?: number;
}

/**
 * A place tensors live and kernels run: it owns storage and nothing else. Kernels only enqueue
 * work; a backend whose device runs asynchronously (`asyncReads`) returns values to the host
 * only through `read`/`readMany`, and its `toHost` throws for values computed on the device.
 */
export interface Backend {
  readonly name: string;
  /** Takes ownership of `values` (or copies them) and returns a storage holding them. */
  fromHost(values: Float32Array | Int32Array): Storage;
  /**
   * The values of `storage` on the host, synchronously. Callers must not mutate the returned
   * array. Async backends throw here (saying what to call instead) unless the host has the values.
   */
  toHost(info: TensorInfo): Float32Array | Int32Array;
  /**
   * As toHost, for a caller that reads the values at once and keeps no reference (Tensor.readSync):
   * a backend that recycles storage may then still recycle it. Absent: toHost.
   */
  peekHost?(info: TensorInfo): Float32Array | Int32Array;
  /**
   * Takes `values` (or a copy of them) as storage for long-lived state that only kernels read and
   * write between steps (optimizer moments), placed where those kernels update it in place.
   * Absent: fromHost.
   */
  stateFromHost?(values: Float32Array): Storage;
  /** A zero-filled storage of `size` elements. */
  zeros(size: number, dtype: DType): Storage;
  /** Frees device memory early; optional because GC reclaims host arrays. */
  dispose?(info: TensorInfo): void;
  /** True where values come back only asynchronously (WebGPU). */
  readonly asyncReads?: boolean;
  /** The values, once the device has computed them. Absent: `toHost`. */
  read?(info: TensorInfo): Promise<Float32Array | Int32Array>;
  /** Several tensors' values in one transfer. Absent: `read` on each. */
  readMany?(infos: readonly TensorInfo[]): Promise<(Float32Array | Int32Array)[]>;
  /** Allocation accounting, where the backend keeps it. */
  memory?(): BackendMemory;
  resetPeak?(): void;
}

/** Builds a backend (a Promise for backends that start asynchronously), or throws saying why it cannot start here. */
export type BackendFactory = () => Backend | Promise<Backend>;

interface BackendEntry {
  factory: BackendFactory;
  instance?: Backend;
  /** The start of a backend that starts asynchronously, until it has resolved. */
  starting?: Promise<Backend>;
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

function entryOf(name: string): BackendEntry {
  const entry = backendEntries.get(name);
  if (!entry) {
    throw new Error(
      `setBackend('${name}'): no such backend; registered backends are ${registeredBackends().join(', ') || '(none)'}`,
    );
  }
  return entry;
}

function cannotStart(name: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`setBackend('${name}'): the backend cannot start here: ${reason}`);
}

function instantiate(name: string): Backend {
  const entry = entryOf(name);
  if (entry.instance) return entry.instance;
  if (!entry.starting) {
    let made: Backend | Promise<Backend>;
    try {
      made = entry.factory();
    } catch (error) {
      throw cannotStart(name, error);
    }
    if (!(made instanceof Promise)) {
      entry.instance = made;
      return made;
    }
    entry.starting = made.then(
      (backend) => (entry.instance = backend),
      (error) => {
        entry.starting = undefined;
        throw cannotStart(name, error);
      },
    );
    // A caller that only used setBackend would otherwise see an unhandled rejection.
    entry.starting.catch(() => {});
  }
  throw new Error(
    `setBackend('${name}'): this backend starts asynchronously (it has to find a WebGPU device); ` +
      `call \`await setBackendAsync('${name}')\` instead`,
  );
}

/**
 * Selects the backend that runs every following op. Throws (never falls back) when the
 * backend is unknown or cannot start, or when it starts asynchronously (use setBackendAsync).
 */
export function setBackend(name: string): Backend {
  activeBackend = instantiate(name);
  return activeBackend;
}

/** setBackend for every backend, including those that start asynchronously (WebGPU). */
export async function setBackendAsync(name: string): Promise<Backend> {
  const entry = entryOf(name);
  if (!entry.instance) {
    try {
      instantiate(name);
    } catch (error) {
      if (!entry.starting) throw error;
    }
    if (entry.starting) await entry.starting;
  }
  activeBackend = entry.instance!;
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

/**
 * The values of several tensors, in one transfer where the backend batches reads (WebGPU):
 * the way to read a step's losses and statistics together.
 */
export async function readInfos(infos: readonly TensorInfo[]): Promise<(Float32Array | Int32Array)[]> {
  const results = new Array<Float32Array | Int32Array>(infos.length);
  const byBackend = new Map<string, number[]>();
  infos.forEach((info, i) => byBackend.set(info.backend, [...(byBackend.get(info.backend) ?? []), i]));
  for (const [name, indices] of byBackend) {
    const backend = getBackendByName(name);
    const group = indices.map((i) => infos[i]);
    let values: (Float32Array | Int32Array)[];
    if (backend.readMany) values = await backend.readMany(group);
    else if (backend.read) values = await Promise.all(group.map((info) => backend.read!(info)));
    else values = group.map((info) => backend.toHost(info));
    indices.forEach((index, k) => (results[index] = values[k]));
  }
  return results;
}

/** Allocation accounting of a backend (the active one by default), where it keeps one. */
export function backendMemory(name?: string): BackendMemory | null {
  const backend = name ? getBackendByName(name) : getBackend();
  return backend.memory?.() ?? null;
}

/** Moves `info` to `backend` through the host when it lives elsewhere. */
export function toBackend(info: TensorInfo, backend: Backend): TensorInfo {
  if (info.backend === backend.name) return info;
  // An async backend's toHost throws for device values, naming `await tensor.data()`.
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
  const start = profiler ? performance.now() : 0;
  const outputs = kernel(local, resolved);
  if (profiler) profiler(kernelName, performance.now() - start, local);
  if (backend.dispose) {
    // Copies moved here for this kernel alone: free them now rather than when GC finds them.
    local.forEach((info, i) => {
      if (info !== inputs[i] && !outputs.some((output) => output.storage === info.storage)) backend.dispose!(info);
    });
  }
  return outputs;
}
