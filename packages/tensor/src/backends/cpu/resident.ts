/**
 * Long-lived float32 arrays inside the shared wasm memory, for state that only kernels read and
 * write between steps (AdamW's two moments). A SIMD kernel then updates such an array where it is,
 * instead of copying it into wasm memory and back on every call: for AdamW that was half of its
 * memory traffic (p, g, m, v in; p, m, v out), ~100-150 ms of a base step.
 *
 * Layout: the GEMM's packs and the row kernels' operands are scratch that starts at DATA_BASE and
 * grows with the largest product. Resident arrays start at RESIDENT_BASE (2 GiB); once one exists,
 * scratch may use only the memory below it (scratchCeiling), so the two never meet. Untouched wasm
 * pages cost no RSS, so the gap between them costs nothing.
 *
 * Lifetime: a block is freed when its array is garbage-collected (FinalizationRegistry) and reused
 * by later allocations (first fit). Resident arrays are SharedArrayBuffer views, so the cpu buffer
 * pool never takes them. Where the host has no 4 GiB shared memory (browsers without cross-origin
 * isolation, RETRO_GEMM_SHARED=0, a smaller reservation) or the region is full, `residentFloats`
 * returns undefined and the caller uses an ordinary array; `residentStats()` says how many.
 */
import { simdSupported, wasmRuntime, ensureBytes } from './gemm/runtime.js';

/** First byte of the resident region; scratch stays below it once any array is resident. */
export const RESIDENT_BASE = 2 ** 31;
/** 4 GiB, the wasm32 maximum: the region is [2 GiB, 4 GiB). */
const RESIDENT_END = 2 ** 32;
/** Blocks start on a cache line; lengths are padded to 4 floats (SIMD kernels write whole vectors). */
const ALIGN = 64;

export interface Block {
  at: number;
  bytes: number;
}

/**
 * First-fit allocation of byte ranges in [start, end): free blocks kept by address and merged with
 * their neighbours when given back. Exported for tests.
 */
export class BlockAllocator {
  /** Free blocks below `top`, by address. */
  readonly free: Block[] = [];
  private top: number;

  constructor(
    start: number,
    private readonly end: number,
  ) {
    this.top = start;
  }

  /** A block of `bytes`: the first free one that fits (split), else one at the top; undefined when full. */
  take(bytes: number): Block | undefined {
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < bytes) continue;
      const at = block.at;
      if (block.bytes === bytes) this.free.splice(i, 1);
      else {
        block.at += bytes;
        block.bytes -= bytes;
      }
      return { at, bytes };
    }
    if (this.top + bytes > this.end) return undefined;
    const block = { at: this.top, bytes };
    this.top += bytes;
    return block;
  }

  /** Puts a block back on the free list, merged with its neighbours. */
  give(block: Block): void {
    const free = this.free;
    let i = 0;
    while (i < free.length && free[i].at < block.at) i++;
    free.splice(i, 0, { at: block.at, bytes: block.bytes });
    const next = free[i + 1];
    if (next && free[i].at + free[i].bytes === next.at) {
      free[i].bytes += next.bytes;
      free.splice(i + 1, 1);
    }
    const previous = free[i - 1];
    if (previous && previous.at + previous.bytes === free[i].at) {
      previous.bytes += free[i].bytes;
      free.splice(i, 1);
    }
  }
}

const allocator = new BlockAllocator(RESIDENT_BASE, RESIDENT_END);
let everUsed = false;
const addressOf = new WeakMap<object, number>();
const stats = { allocated: 0, freed: 0, fallbacks: 0, liveBytes: 0 };
const registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Block>(release) : undefined;

const roundUp = (x: number, q: number): number => Math.ceil(x / q) * q;

/** Whether this host can place arrays in the shared wasm memory (4 GiB shared memory and wasm SIMD). */
export function residentSupported(): boolean {
  if (!simdSupported() || registry === undefined) return false;
  const runtime = wasmRuntime();
  return runtime.shared && runtime.maxBytes >= RESIDENT_END;
}

/** The highest byte scratch may use: below the resident region once it is in use, else `maxBytes`. */
export function scratchCeiling(maxBytes: number): number {
  return everUsed ? Math.min(maxBytes, RESIDENT_BASE) : maxBytes;
}

/**
 * A zero-filled Float32Array of `length` elements inside the shared wasm memory (its byte address:
 * residentAddress), or undefined where that is not possible (see the top of this file).
 */
export function residentFloats(length: number): Float32Array | undefined {
  if (!Number.isInteger(length) || length < 0) throw new Error(`residentFloats: length must be an integer >= 0, got ${length}`);
  if (!residentSupported()) {
    stats.fallbacks++;
    return undefined;
  }
  const bytes = roundUp(Math.max(4, roundUp(length, 4) * 4), ALIGN);
  const block = allocator.take(bytes);
  if (!block) {
    stats.fallbacks++;
    return undefined;
  }
  const { memory } = wasmRuntime();
  try {
    ensureBytes(memory, block.at + block.bytes);
  } catch {
    allocator.give(block);
    stats.fallbacks++;
    return undefined;
  }
  everUsed = true;
  const array = new Float32Array(memory.buffer, block.at, length);
  // Scratch may have used these bytes before the region was claimed, and freed blocks hold old values.
  array.fill(0);
  addressOf.set(array, block.at);
  registry!.register(array, block);
  stats.allocated++;
  stats.liveBytes += block.bytes;
  return array;
}

/** The byte address of a resident array in the shared wasm memory, or undefined for any other array. */
export function residentAddress(array: object): number | undefined {
  return addressOf.get(array);
}

/** Resident arrays made, freed (after GC) and refused (fallbacks), and the bytes held now. */
export function residentStats(): { allocated: number; freed: number; fallbacks: number; liveBytes: number } {
  return { ...stats };
}

/** A resident array was garbage-collected: its block goes back to the free list. */
function release(block: Block): void {
  stats.freed++;
  stats.liveBytes -= block.bytes;
  allocator.give(block);
}
