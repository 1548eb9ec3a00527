/**
 * What the host offers the wasm GEMM (SIMD, relaxed-SIMD FMA, shared memory, worker threads) and
 * the compiled module plus the memory every thread shares. Nothing here throws on a host that
 * lacks a feature: it reports the lack and the caller falls back.
 */
import { MAX_PAGES, WASM_BASE64 } from './wasm-bytes.js';

export type GemmKernel = 'relaxed' | 'simd' | 'js';

/** Node built-ins without a static import, so the module also loads in browsers and bundles. */
export function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    if (typeof proc?.getBuiltinModule === 'function') return proc.getBuiltinModule(name) as T;
  } catch {}
  try {
    // CJS builds (and Node before getBuiltinModule) still have require.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (typeof require === 'function') return require(name) as T;
  } catch {}
  return undefined;
}

export function envVar(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const hasWasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
const probe = (b64: string): boolean => {
  try {
    return hasWasm && WebAssembly.validate(decodeBase64(b64));
  } catch {
    return false;
  }
};

let simdCache: boolean | undefined;
/** Whether wasm SIMD (v128) validates here; the unshared module needs nothing else. */
export function simdSupported(): boolean {
  simdCache ??= probe(WASM_BASE64.simdUnshared);
  return simdCache;
}

let relaxedCache: boolean | undefined;
/**
 * Whether f32x4.relaxed_madd validates here, after asking V8 to enable it: Node 20 ships relaxed
 * SIMD behind --experimental-wasm-relaxed-simd, which setFlagsFromString can still turn on
 * before the module is compiled. RETRO_GEMM_RELAXED=0 opts out.
 */
export function relaxedSupported(): boolean {
  if (relaxedCache !== undefined) return relaxedCache;
  if (envVar('RETRO_GEMM_RELAXED') === '0' || !simdSupported()) return (relaxedCache = false);
  if (!probe(WASM_BASE64.relaxedProbe)) {
    try {
      nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8')?.setFlagsFromString(
        '--experimental-wasm-relaxed-simd',
      );
    } catch {}
  }
  relaxedCache = probe(WASM_BASE64.relaxedProbe) && probe(WASM_BASE64.relaxedUnshared);
  return relaxedCache;
}

/** Shared memory needs SharedArrayBuffer (browsers: cross-origin isolation); RETRO_GEMM_SHARED=0 opts out. */
export function sharedMemorySupported(): boolean {
  if (envVar('RETRO_GEMM_SHARED') === '0') return false;
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object';
}

/**
 * Where GEMM helper threads come from: Node's worker_threads, a browser's Web Workers (only when
 * cross-origin isolated: a shared WebAssembly.Memory can be posted to a worker only then), or
 * nowhere, with the reason (the caller then runs single-threaded and says so).
 */
export type WorkerHost = { kind: 'node' } | { kind: 'web' } | { kind: 'none'; reason: string };

let hostCache: WorkerHost | undefined;

export function workerHost(): WorkerHost {
  // The answer cannot change during a context's life (isolation is decided when it is created).
  return (hostCache ??= findWorkerHost());
}

function findWorkerHost(): WorkerHost {
  if (nodeBuiltin<{ Worker?: unknown }>('node:worker_threads')?.Worker !== undefined) return { kind: 'node' };
  const g = globalThis as { Worker?: unknown; Blob?: unknown; crossOriginIsolated?: boolean; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') {
    return { kind: 'none', reason: 'no worker_threads or Web Workers in this context' };
  }
  if (g.crossOriginIsolated !== true) {
    return { kind: 'none', reason: 'not cross-origin isolated (serve the page with COOP: same-origin and COEP: require-corp), so no shared memory for Web Workers' };
  }
  return { kind: 'web' };
}

/** The memory all threads share and the modules compiled for it, one per kernel variant. */
export interface WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly maxBytes: number;
  /** Compiled module and this thread's instance for a SIMD variant. */
  variant(kernel: 'relaxed' | 'simd'): { module: WebAssembly.Module; work: () => number };
}

let runtimeCache: WasmRuntime | undefined;

/** Creates the memory (shared where the host allows) on first use. */
export function wasmRuntime(): WasmRuntime {
  if (runtimeCache) return runtimeCache;
  let memory: WebAssembly.Memory | undefined;
  let shared = false;
  let maxPages = MAX_PAGES;
  if (sharedMemorySupported()) {
    // A shared memory reserves its maximum up front; hosts with little address space (32-bit
    // browsers) may refuse 4 GiB, so try smaller ceilings (an import may declare less than the module).
    for (const pages of [MAX_PAGES, MAX_PAGES / 2, MAX_PAGES / 4, MAX_PAGES / 16]) {
      try {
        memory = new WebAssembly.Memory({ initial: 2, maximum: pages, shared: true });
        shared = true;
        maxPages = pages;
        break;
      } catch {}
    }
  }
  memory ??= new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES });
  const variants = new Map<string, { module: WebAssembly.Module; work: () => number }>();
  const runtime: WasmRuntime = {
    memory,
    shared,
    maxBytes: maxPages * 65536,
    variant(kernel) {
      let v = variants.get(kernel);
      if (!v) {
        const key = `${kernel}${shared ? 'Shared' : 'Unshared'}` as keyof typeof WASM_BASE64;
        const module = new WebAssembly.Module(decodeBase64(WASM_BASE64[key]));
        const instance = new WebAssembly.Instance(module, { env: { memory } });
        v = { module, work: instance.exports.work as () => number };
        variants.set(kernel, v);
      }
      return v;
    },
  };
  runtimeCache = runtime;
  return runtime;
}

/** Grows `memory` to hold `bytes`; the caller has checked `bytes` against the maximum. */
export function ensureBytes(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
