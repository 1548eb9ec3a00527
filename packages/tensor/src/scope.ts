/**
 * Scopes: deterministic device memory for temporaries.
 *
 * On a backend that holds tensors on a device (gpujs mode webgpu), a buffer is freed only by
 * `tensor.dispose()` or when garbage collection finalises the tensor, and GC knows nothing about
 * device memory. `scope(fn)` makes the lifetime explicit: storage born while `fn` runs (kernel
 * outputs, host uploads, zeros) is disposed when `fn` returns or throws, except
 *   - what `fn` returns (a Tensor, or Tensors inside arrays, plain objects and Maps): handed to the
 *     enclosing scope, or to the caller when there is none;
 *   - what `keep(t)` marked: owned by the caller from then on (parameters, their `.grad`,
 *     optimizer state, caches); freed only by `t.dispose()` or GC.
 *
 * Ownership is per storage, not per Tensor object: views (`reshape`, `detach`) share their
 * source's storage, so keeping or returning a view keeps the storage, and a view taken inside a
 * scope of a tensor born outside it is never disposed by the scope. Only storage born inside the
 * scope is ever disposed by it.
 *
 * A graph recorded inside a scope must be back-propagated inside it (its saved tensors are
 * disposed at the end). `fn` must be synchronous: read values back (`await readTensors`) between
 * scopes, returning what is to be read from the first.
 *
 * On backends without device memory to free (cpu: `Backend.dispose` absent) nothing is tracked,
 * so a scope costs a push and a pop.
 */
import { getBackendByName } from './engine/engine.js';
import type { TensorInfo } from './engine/kernels.js';
import { Tensor } from './tensor.js';

interface Frame {
  readonly name: string;
  /** Storage born in this scope and not yet kept, returned or disposed, with an info to dispose it by. */
  readonly born: Map<object, TensorInfo>;
}

const frames: Frame[] = [];
/** The frame tracking each storage (absent: owned by a caller, or never tracked). */
const ownerOf = new WeakMap<object, Frame>();

/** How deep in scopes the caller is (0: outside every scope). */
export function scopeDepth(): number {
  return frames.length;
}

function tracksOn(backendName: string): boolean {
  return typeof getBackendByName(backendName).dispose === 'function';
}

/**
 * Records new storage in the innermost scope (called where storage is born: kernel outputs,
 * uploads, zeros). `inputs`: the kernel's inputs, whose storage an output may alias and which
 * is then not new.
 */
export function trackBorn(info: TensorInfo, inputs?: readonly TensorInfo[]): void {
  const frame = frames[frames.length - 1];
  if (frame === undefined) return;
  const storage = info.storage;
  if (typeof storage !== 'object' || storage === null || ownerOf.has(storage)) return;
  if (inputs && inputs.some((input) => input.storage === storage)) return;
  if (!tracksOn(info.backend)) return;
  frame.born.set(storage, info);
  ownerOf.set(storage, frame);
}

/**
 * Takes `value`'s tensors out of every scope: they outlive it and belong to the caller, who frees
 * them with `dispose()` (or leaves it to GC). Returns `value`. Tensors inside arrays, plain
 * objects and Maps are kept too.
 */
export function keep<T>(value: T): T {
  forEachTensor(value, (tensor) => {
    const storage = tensor.info.storage;
    if (typeof storage !== 'object' || storage === null) return;
    const frame = ownerOf.get(storage);
    if (!frame) return;
    frame.born.delete(storage);
    ownerOf.delete(storage);
  });
  return value;
}

/**
 * The opposite of `keep`: the innermost scope takes `value`'s tensors as its own temporaries
 * (disposed when it ends); outside every scope, nothing happens. For values whose owner lets go
 * of them but that a caller may still read until the scope ends (a replaced `.grad`).
 */
export function release<T>(value: T): T {
  const frame = frames[frames.length - 1];
  if (frame === undefined) return value;
  forEachTensor(value, (tensor) => {
    const storage = tensor.info.storage;
    if (typeof storage !== 'object' || storage === null || !tracksOn(tensor.info.backend)) return;
    ownerOf.get(storage)?.born.delete(storage);
    frame.born.set(storage, tensor.info);
    ownerOf.set(storage, frame);
  });
  return value;
}

/**
 * Runs `fn` and disposes the storage born meanwhile, except its result's tensors (handed to the
 * enclosing scope) and those `keep` marked; disposes everything born when `fn` throws. `name`
 * appears in errors only.
 */
export function scope<T>(fn: () => T, name = 'scope'): T {
  const frame: Frame = { name, born: new Map() };
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    end(frame);
    disposeAll(frame);
    throw error;
  }
  end(frame);
  if (result instanceof Promise) {
    disposeAll(frame);
    throw new Error(
      `${name}: the function returned a Promise; a scope must be synchronous (run the work before the first await inside it, ` +
        'return the tensors to read, `await readTensors(...)` after the scope)',
    );
  }
  const parent = frames[frames.length - 1];
  forEachTensor(result, (tensor) => {
    const storage = tensor.info.storage;
    if (typeof storage !== 'object' || storage === null || ownerOf.get(storage) !== frame) return;
    frame.born.delete(storage);
    if (parent) {
      parent.born.set(storage, tensor.info);
      ownerOf.set(storage, parent);
    } else {
      ownerOf.delete(storage);
    }
  });
  disposeAll(frame);
  return result;
}

/**
 * True when `tensor`'s storage was born in the innermost scope and nothing has kept or returned
 * it: the innermost scope is its only owner. Always false where nothing is tracked (cpu).
 */
export function bornInInnermost(tensor: Tensor): boolean {
  const frame = frames[frames.length - 1];
  const storage = tensor.info.storage;
  return frame !== undefined && typeof storage === 'object' && storage !== null && ownerOf.get(storage) === frame;
}

/** Whether scopes free `tensor`'s storage at all (its backend frees device memory). */
export function tracked(tensor: Tensor): boolean {
  return tracksOn(tensor.info.backend);
}

/**
 * Disposes now every storage born in the innermost scope for which `live` says false: how the
 * backward sweep frees each gradient as soon as nothing pending refers to it.
 */
export function disposeBornUnless(live: (storage: object) => boolean): void {
  const frame = frames[frames.length - 1];
  if (frame === undefined) return;
  for (const [storage, info] of frame.born) {
    if (live(storage)) continue;
    frame.born.delete(storage);
    ownerOf.delete(storage);
    getBackendByName(info.backend).dispose?.(info);
  }
}

/**
 * Disposes `tensor` now if a scope owns its storage (a temporary, neither kept nor returned past
 * every scope); returns whether it did. Storage a caller owns is left alone.
 */
export function disposeTemporary(tensor: Tensor): boolean {
  const storage = tensor.info.storage;
  if (typeof storage !== 'object' || storage === null) return false;
  const frame = ownerOf.get(storage);
  if (!frame) return false;
  const info = frame.born.get(storage)!;
  frame.born.delete(storage);
  ownerOf.delete(storage);
  getBackendByName(info.backend).dispose?.(info);
  return true;
}

function end(frame: Frame): void {
  const top = frames.pop();
  if (top !== frame) {
    // Only possible if a scope was left without ending (an engine bug): say so rather than free the wrong tensors.
    throw new Error(`scope '${frame.name}' ended while scope '${top?.name ?? '(none)'}' was innermost`);
  }
}

function disposeAll(frame: Frame): void {
  for (const [storage, info] of frame.born) {
    ownerOf.delete(storage);
    getBackendByName(info.backend).dispose?.(info);
  }
  frame.born.clear();
}

/** Calls `visit` on every Tensor in `value`: itself, or inside arrays, plain objects and Maps (any depth). */
function forEachTensor(value: unknown, visit: (tensor: Tensor) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Tensor) {
    visit(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) forEachTensor(item, visit, seen);
    return;
  }
  if (value instanceof Map) {
    for (const item of value.values()) forEachTensor(item, visit, seen);
    return;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    for (const item of Object.values(value)) forEachTensor(item, visit, seen);
  }
}
