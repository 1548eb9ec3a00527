/**
 * The gpujs Backend: owns one gpu.js instance in one mode, the storages it hands out, and a
 * cache of compiled kernels keyed by (program name, generated source, constants, output,
 * argument sizes). Kernels (src/backends/gpujs/kernels) only build Programs and call `run`.
 */
import type { Backend, BackendMemory } from '../../engine/engine.js';
import type { DType, Storage, TensorInfo } from '../../engine/kernels.js';
import { kernelClassMode, type GpujsKernel } from './lib.js';
import { isGlMode, type GpujsMode, type ModeChoice } from './modes.js';
import { cells, makeCodegen, planOutput, type Program } from './program.js';
import { GpujsStorage, isHostArray, isTexture, type GpujsTexture, type HostArray } from './storage.js';

export interface GpujsBackendOptions {
  /** Most compiled kernels kept; the least recently used beyond it are destroyed. */
  maxKernels?: number;
  /**
   * cpu/webasm: most bytes of argument and output memory that cached kernels may pin (each
   * webasm kernel keeps its own WebAssembly.Memory holding its last inputs and output).
   */
  maxKernelBytes?: number;
  /**
   * Testing aid for cpu/webasm: plan outputs and generate index code as the GL modes do, with
   * this texture side limit (host arrays stay the storage). Lets the GL-only paths (flat
   * layouts, float index math, one output per MatMul thread) run where no GL context exists.
   */
  emulateTextureLimit?: number;
  /**
   * Indices at or above this many elements are spelled out as integer expressions instead of
   * float locals (see Codegen). Default 2^24, where float32 stops holding every integer;
   * tests lower it to 0 to run the inline code paths on small tensors.
   */
  inlineIndexThreshold?: number;
}

interface CacheEntry {
  kernel: GpujsKernel;
  bytes: number;
}

export interface GpujsInfo {
  /** Backend name as registered (what TensorInfo.backend says). */
  name: string;
  /** The gpu.js mode kernels run in. */
  mode: GpujsMode;
  /** What was asked for: a mode, 'gpu', or 'default' (best that starts). */
  requested: string;
  /** Where the request came from. */
  source: 'option' | 'env' | 'default';
  /** Whether data stays on a device between kernels (GL textures) or lives in host arrays. */
  deviceResident: boolean;
  /** webasm: whether kernels also compile to f32x4 SIMD bodies; null in other modes. */
  simd: boolean | null;
  /**
   * Always false: gpu.js splits webasm kernels over worker threads only under its async
   * (Promise) contract, and Backend/KernelFunc are synchronous, so every kernel runs on the
   * calling thread.
   */
  threaded: boolean;
  /** Largest texture side in GL modes (or the emulated one); null where layouts are unlimited. */
  maxTextureSize: number | null;
  /** cpu/webasm running GL-style layouts and index code (the emulateTextureLimit option). */
  emulatedGl: boolean;
  /** Compiled kernels currently cached. */
  compiledKernels: number;
  /** Kernel compilations so far (cache misses). */
  compilations: number;
  /** Of those, how many laid a 2-D grid out flat (texture side limit) or inlined indices (>= 2^24). */
  flatCompilations: number;
  inlineCompilations: number;
  /** Modes tried before this one (default/'gpu' requests) and why each did not start. */
  skipped: Record<string, string>;
  /** webgpu mode: where the device came from and what the adapter says it is. */
  device?: string;
  /** webgpu mode: compute dispatches queued and device-to-host transfers so far. */
  dispatches?: number;
  transfers?: number;
  /** webgpu mode: the device memory its tensors hold (the engine's allocation accounting). */
  memory?: BackendMemory;
}

export class GpujsBackend implements Backend {
  readonly mode: GpujsMode;
  /** Storage is host arrays (cpu, webasm) rather than textures. */
  readonly host: boolean;
  /** Index code and output layouts are the GL ones (GL modes, or emulated for tests). */
  readonly glStyle: boolean;
  private readonly maxTextureSize: number;
  private readonly inlineThreshold: number;
  private readonly cache = new Map<string, CacheEntry>();
  private cachedBytes = 0;
  private compilations = 0;
  private flatCompilations = 0;
  private inlineCompilations = 0;
  private readonly maxKernels: number;
  private readonly maxKernelBytes: number;

  constructor(
    readonly name: string,
    private readonly choice: ModeChoice,
    private readonly source: GpujsInfo['source'],
    options: GpujsBackendOptions = {},
  ) {
    this.mode = choice.started.mode;
    this.host = !isGlMode(this.mode);
    if (options.emulateTextureLimit !== undefined && !this.host) {
      throw new Error(`gpujs backend: emulateTextureLimit is for cpu/webasm modes, not '${this.mode}'`);
    }
    this.glStyle = !this.host || options.emulateTextureLimit !== undefined;
    this.maxTextureSize = options.emulateTextureLimit ?? choice.started.maxTextureSize;
    this.inlineThreshold = options.inlineIndexThreshold ?? 2 ** 24;
    this.maxKernels = options.maxKernels ?? 256;
    this.maxKernelBytes = options.maxKernelBytes ?? 1 << 30;
  }

  info(): GpujsInfo {
    return {
      name: this.name,
      mode: this.mode,
      requested: this.choice.requested,
      source: this.source,
      deviceResident: !this.host,
      simd: this.choice.started.simd,
      threaded: false,
      maxTextureSize: this.glStyle ? this.maxTextureSize : null,
      emulatedGl: this.host && this.glStyle,
      compiledKernels: this.cache.size,
      compilations: this.compilations,
      flatCompilations: this.flatCompilations,
      inlineCompilations: this.inlineCompilations,
      skipped: { ...this.choice.skipped },
    };
  }

  // ---------------------------------------------------------------- Backend contract

  fromHost(values: Float32Array | Int32Array): Storage {
    if (this.host || values.length === 0) return new GpujsStorage(values, values.length);
    const floats = values instanceof Float32Array ? values : Float32Array.from(values);
    const storage = this.run(uploadProgram(values.length), [floats]);
    // the host copy is kept: ids/labels are validated on the host without a readback
    storage.hostCache = values;
    return storage;
  }

  toHost(info: TensorInfo): Float32Array | Int32Array {
    const storage = this.storageOf(info, 'toHost');
    const values = this.hostValues(storage);
    if (info.dtype === 'int32') {
      if (values instanceof Int32Array) return values;
      // int32 results (Cast) are stored as floats holding integers
      storage.intCache ??= Int32Array.from(values, Math.trunc);
      return storage.intCache;
    }
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }

  zeros(size: number, dtype: DType): Storage {
    if (this.host || size === 0) return new GpujsStorage(dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), size);
    return this.run(zerosProgram(size), []);
  }

  dispose(info: TensorInfo): void {
    if (info.storage instanceof GpujsStorage) info.storage.dispose();
  }

  // ---------------------------------------------------------------- helpers for kernels

  storageOf(info: TensorInfo, where: string): GpujsStorage {
    const storage = info.storage;
    if (!(storage instanceof GpujsStorage)) {
      throw new Error(`gpujs ${where}: storage of a [${info.shape.join(', ')}] tensor from backend '${info.backend}' is not a gpujs storage`);
    }
    if (storage.isDisposed) throw new Error(`gpujs ${where}: a [${info.shape.join(', ')}] tensor was used after dispose`);
    return storage;
  }

  /** The values on the host: the array itself (host modes) or a cached readback (GL). */
  hostValues(storage: GpujsStorage): HostArray {
    if (isHostArray(storage.data)) return storage.data;
    if (storage.hostCache) return storage.hostCache;
    const values = flattenResult(storage.data.toArray(), storage.size, 'toHost');
    storage.hostCache = values;
    return values;
  }

  /** A TensorInfo for a storage this backend produced. */
  wrap(storage: GpujsStorage, shape: readonly number[], dtype: DType = 'float32'): TensorInfo {
    return { storage, shape: [...shape], dtype, backend: this.name };
  }

  /** Runs `program` and wraps its output (grid cells, or 4 per cell for vec4) in a storage. */
  run(program: Program, args: readonly (GpujsStorage | HostArray)[]): GpujsStorage {
    const size = cells(program.grid) * (program.vec4 ? 4 : 1);
    const raw = this.runRaw(program, args);
    return new GpujsStorage(raw, size);
  }

  /** Runs `program`; host modes get one flat Float32Array, GL modes a texture. */
  runRaw(program: Program, args: readonly (GpujsStorage | HostArray)[]): HostArray | GpujsTexture {
    const { grid } = program;
    const total = cells(grid);
    if (total === 0) throw new Error(`gpujs ${program.name}: internal error, empty grid`);
    if (program.vec4 && this.glStyle) throw new Error(`gpujs ${program.name}: internal error, vec4 programs are cpu/webasm-only`);
    // emulation checks the side limit only: its point is the flat layouts, not capacity
    const capacity = this.host ? Infinity : this.maxTextureSize * this.maxTextureSize;
    const plan = planOutput(grid, !this.glStyle, this.maxTextureSize, capacity);
    const values = args.map((arg, i) => {
      const value = arg instanceof GpujsStorage ? arg.data : arg;
      const length = isHostArray(value) ? value.length : (arg as GpujsStorage).size;
      if (length === 0) throw new Error(`gpujs ${program.name}: internal error, argument ${i} is empty`);
      if (arg instanceof GpujsStorage && arg.isDisposed) throw new Error(`gpujs ${program.name}: argument ${i} was used after dispose`);
      return { value, length };
    });
    const largest = Math.max(total * (program.vec4 ? 4 : 1), ...values.map((v) => v.length));
    const cg = makeCodegen(!this.glStyle, plan.flat, largest >= this.inlineThreshold);
    const constants: Record<string, number> = { ...(program.constants ?? {}) };
    if (plan.flat) {
      constants.gridX = grid.x;
      constants.gridY = grid.y;
    }
    const source = program.source(cg, constants);
    const key = [
      program.name,
      source,
      JSON.stringify(constants),
      plan.output.join('x'),
      program.loopMax ?? 0,
      program.vec4 ? 4 : 1,
      values.map((v) => `${isTexture(v.value) ? 't' : 'a'}${v.length}`).join(','),
    ].join('\u0001');
    let entry = this.cache.get(key);
    if (entry) {
      this.cache.delete(key);
      this.cache.set(key, entry);
    } else {
      entry = this.compile(program.name, source, constants, plan.output, program.loopMax, values.map((v) => v.length), total);
      if (plan.flat) this.flatCompilations++;
      if (cg.inline) this.inlineCompilations++;
      this.cache.set(key, entry);
      this.cachedBytes += entry.bytes;
      this.evict(entry);
    }
    let result: unknown;
    try {
      result = entry.kernel(...values.map((v) => v.value));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`gpujs ${program.name} (mode ${this.mode}, output [${plan.output.join(', ')}]): ${reason}\n${source}`);
    }
    const ran = kernelClassMode(entry.kernel.kernel.constructor);
    if (ran !== this.mode) {
      // gpu.js degrades unsupported kernels to its cpu backend with only a console warning
      throw new Error(
        `gpujs ${program.name}: gpu.js ran this kernel on '${String(ran)}' instead of '${this.mode}' (${entry.kernel.kernel.fallbackReason ?? 'no reason given'})`,
      );
    }
    if (!this.host) {
      if (!isTexture(result)) throw new Error(`gpujs ${program.name}: expected a texture from pipeline mode, got ${typeof result}`);
      return result;
    }
    return flattenResult(result, total * (program.vec4 ? 4 : 1), program.name);
  }

  /** Host modes: zero-copy views; GL: copy kernels. Parts must tile the storage. */
  split(storage: GpujsStorage, parts: readonly number[]): GpujsStorage[] {
    let offset = 0;
    const out: GpujsStorage[] = [];
    for (const len of parts) {
      out.push(this.range(storage, offset, len));
      offset += len;
    }
    return out;
  }

  /** Elements [offset, offset + len) of `storage` as their own storage. */
  range(storage: GpujsStorage, offset: number, len: number): GpujsStorage {
    if (len === 0) return new GpujsStorage(new Float32Array(0), 0);
    if (isHostArray(storage.data)) return new GpujsStorage(storage.data.subarray(offset, offset + len), len);
    return this.run(rangeProgram(offset, len), [storage]);
  }

  /**
   * Makes `target` hold `values` (same size) in place: host arrays are overwritten element by
   * element (so every alias of the array sees the update), GL textures are swapped.
   */
  assign(target: GpujsStorage, values: GpujsStorage): void {
    if (target.size !== values.size) throw new Error(`gpujs assign: size ${values.size} into ${target.size}`);
    if (isHostArray(target.data) && isHostArray(values.data)) {
      target.data.set(values.data);
      target.hostCache = null;
      target.intCache = null;
      return;
    }
    target.replace(values.data);
  }

  private compile(
    name: string,
    source: string,
    constants: Record<string, number>,
    output: number[],
    loopMax: number | undefined,
    argLengths: number[],
    total: number,
  ): CacheEntry {
    const settings: Record<string, unknown> = {
      output,
      pipeline: true,
      immutable: true,
      strictIntegers: true,
      precision: 'single',
      loopMaxIterations: Math.max(1000, (loopMax ?? 0) + 1),
    };
    if (Object.keys(constants).length > 0) settings.constants = constants;
    if (!this.host) settings.tactic = 'precision';
    let kernel: GpujsKernel;
    try {
      kernel = this.choice.started.gpu.createKernel(source, settings);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`gpujs ${name}: gpu.js rejected the kernel in mode ${this.mode}: ${reason}\n${source}`);
    }
    this.compilations++;
    const bytes = this.host ? 4 * (argLengths.reduce((a, b) => a + b, 0) + total * 4) : 0;
    return { kernel, bytes };
  }

  private evict(keep: CacheEntry): void {
    for (const [key, entry] of this.cache) {
      if (this.cache.size <= this.maxKernels && this.cachedBytes <= this.maxKernelBytes) break;
      if (entry === keep) continue;
      this.cache.delete(key);
      this.cachedBytes -= entry.bytes;
      entry.kernel.destroy();
    }
  }
}

// ------------------------------------------------------------------ small shared programs

function uploadProgram(n: number): Program {
  return {
    name: 'upload',
    grid: { x: n, y: 1, z: 1 },
    source: (cg) => `function(a) { ${cg.ids} return a[${cg.gx}]; }`,
  };
}

function zerosProgram(n: number): Program {
  return {
    name: 'zeros',
    grid: { x: n, y: 1, z: 1 },
    source: (cg) => `function() { ${cg.ids} return 0.0; }`,
  };
}

function rangeProgram(offset: number, n: number): Program {
  return {
    name: 'range',
    grid: { x: n, y: 1, z: 1 },
    constants: { off: offset },
    source: (cg) => `function(a) { ${cg.ids} return a[${cg.gx} + this.constants.off]; }`,
  };
}

/**
 * One flat Float32Array of `total` values from whatever gpu.js returned: a typed array, rows
 * of subarrays (a zero-copy view when they tile one buffer, as webasm's do), nested rows, or
 * JS arrays (cpu-mode vec4 cells).
 */
export function flattenResult(result: unknown, total: number, where: string): Float32Array {
  if (result instanceof Float32Array) {
    if (result.length < total) throw new Error(`gpujs ${where}: kernel returned ${result.length} values, expected ${total}`);
    return result.length === total ? result : result.subarray(0, total);
  }
  if (Array.isArray(result)) {
    const first = firstLeaf(result);
    const last = lastLeaf(result);
    if (first && last && first.buffer === last.buffer) {
      const span = (last.byteOffset + last.byteLength - first.byteOffset) / 4;
      if (span === total) return new Float32Array(first.buffer, first.byteOffset, total);
    }
    const out = new Float32Array(total);
    let n = 0;
    const walk = (node: unknown): void => {
      if (typeof node === 'number') {
        if (n < total) out[n] = node;
        n++;
      } else if (node instanceof Float32Array || Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) walk(node[i]);
      } else {
        throw new Error(`gpujs ${where}: unexpected kernel result element ${String(node)}`);
      }
    };
    walk(result);
    if (n < total) throw new Error(`gpujs ${where}: kernel returned ${n} values, expected ${total}`);
    return out;
  }
  throw new Error(`gpujs ${where}: unexpected kernel result ${Object.prototype.toString.call(result)}`);
}

function firstLeaf(node: unknown): Float32Array | null {
  while (Array.isArray(node)) {
    if (node.length === 0) return null;
    node = node[0];
  }
  return node instanceof Float32Array ? node : null;
}

function lastLeaf(node: unknown): Float32Array | null {
  while (Array.isArray(node)) {
    if (node.length === 0) return null;
    node = node[node.length - 1];
  }
  return node instanceof Float32Array ? node : null;
}
