/**
 * Recycled Float32Array storage for the cpu backend: the step temporaries a scope disposes
 * (activations, gradients, kernel scratch) come back as the next step's kernel outputs.
 *
 * Why: a fresh typed array is zeroed and faulted in page by page on its first write. Measured on
 * this 2-core VM, writing 6 MB into a fresh array runs at 3-11 GB/s (huge-page malloc) against
 * ~40 GB/s into one already touched; a base training step writes gigabytes of kernel outputs, and
 * the GEMM's copy of C out of wasm memory was its costliest JS function (cpu profile, session 11).
 *
 * Safety: a storage is recycled only when a scope (or `tensor.dispose()`) frees it while recycling
 * is on, it owns its whole ArrayBuffer, and no one outside the engine can hold it: arrays handed to
 * callers (`toHost`: dataSync, toFloat32Array) or taken from them (`fromHost`: tensor(values)) and
 * arrays sharing a buffer with another storage are marked escaped and never recycled.
 * Recycling is off by default (scopes then track nothing on the cpu, as before); the training loop
 * and `bench:train` turn it on (`setCpuBufferRecycling`).
 */

/**
 * Bytes the pool may hold while idle by default; beyond it, freed arrays are left to GC. Large
 * enough for a base model's parameter gradients (408 MB, freed by zeroGrad and written again by
 * the next backward) besides the step's activations: at 256 MB a base RetroMAE step still made
 * 236 fresh arrays (of any size), at 1 GiB 4, and ran 3-24 % faster with a lower peak RSS (2.62-2.63 GB against
 * 2.66-2.85): an array the pool does not keep is garbage that holds its memory until GC anyway
 * (session 12, benchmarks/results/issue-19-session12).
 */
const DEFAULT_MAX_IDLE_BYTES = 1024 * 1024 * 1024;
/** Smaller arrays (under 1 KB) come from malloc's small bins, already warm: not worth a pool entry. */
const MIN_POOLED_ELEMENTS = 256;

const free = new Map<number, Float32Array[]>();
const escaped = new WeakSet<object>();
/** Arrays in `free` now: a second dispose of the same storage must not pool it twice. */
const pooled = new WeakSet<object>();
let pooledBytes = 0;
let maxIdleBytes = DEFAULT_MAX_IDLE_BYTES;
let enabled = false;
const stats = { recycled: 0, reused: 0, fresh: 0 };

/**
 * Turns recycling on or off; off empties the pool. `maxIdleBytes` bounds what the pool holds
 * unused (1 GiB until set; a call without it keeps the last bound), from the next array freed.
 */
export function setCpuBufferRecycling(on: boolean, options: { maxIdleBytes?: number } = {}): void {
  if (typeof on !== 'boolean') throw new Error(`setCpuBufferRecycling: on must be true or false, got ${JSON.stringify(on)}`);
  const limit = options.maxIdleBytes ?? maxIdleBytes;
  if (!(limit >= 0 && Number.isFinite(limit))) throw new Error(`setCpuBufferRecycling: maxIdleBytes must be a finite number >= 0, got ${String(options.maxIdleBytes)}`);
  maxIdleBytes = limit;
  enabled = on;
  if (!on) {
    free.clear();
    pooledBytes = 0;
  }
}

export function cpuBufferRecycling(): boolean {
  return enabled;
}

/**
 * How many arrays were recycled, reused and allocated fresh (of the sizes the pool takes, >= 256
 * elements) since the start, for tests and benchmarks.
 */
export function cpuBufferPoolStats(): { recycled: number; reused: number; fresh: number; pooledBytes: number } {
  return { ...stats, pooledBytes };
}

/** `storage` may be seen outside the engine: never recycle it. */
export function markEscaped(storage: unknown): void {
  if (typeof storage === 'object' && storage !== null) escaped.add(storage);
}

/**
 * A Float32Array of `length` elements with arbitrary contents (a recycled one when the pool has
 * it): for kernel outputs every element of which the kernel writes.
 */
export function takeFloats(length: number): Float32Array {
  if (length >= MIN_POOLED_ELEMENTS) {
    const array = enabled ? free.get(length)?.pop() : undefined;
    if (array) {
      pooled.delete(array);
      pooledBytes -= array.byteLength;
      stats.reused++;
      return array;
    }
    stats.fresh++;
  }
  return new Float32Array(length);
}

/** As takeFloats, zeroed. */
export function takeZeros(length: number): Float32Array {
  const array = takeFloats(length);
  return array.fill(0);
}

/** Takes back a storage a scope or `dispose()` freed, when it is safe to (see the top of this file). */
export function recycle(storage: unknown): void {
  if (!enabled || !(storage instanceof Float32Array) || escaped.has(storage) || pooled.has(storage)) return;
  if (storage.length < MIN_POOLED_ELEMENTS || storage.byteOffset !== 0 || storage.byteLength !== storage.buffer.byteLength) return;
  if ((typeof SharedArrayBuffer !== 'undefined' && storage.buffer instanceof SharedArrayBuffer) || pooledBytes + storage.byteLength > maxIdleBytes) return;
  pooled.add(storage);
  let list = free.get(storage.length);
  if (!list) free.set(storage.length, (list = []));
  list.push(storage);
  pooledBytes += storage.byteLength;
  stats.recycled++;
}
