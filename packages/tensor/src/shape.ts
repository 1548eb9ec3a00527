/** Shape arithmetic shared by ops and kernels. */

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/** numpy broadcasting of two shapes; `op` names the caller in the error. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${i} of the result: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides to read a contiguous input of `shape` as if broadcast to `outShape` (right-aligned;
 * 0 along every stretched, size-1 or missing, dim). Throws when `shape` does not broadcast to it.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  if (offset < 0 || shape.some((dim, axis) => dim !== 1 && dim !== outShape[axis + offset])) {
    throw new Error(`broadcastStrides: ${formatShape(shape)} does not broadcast to ${formatShape(outShape)}`);
  }
  return outShape.map((_, axis) => {
    const inputAxis = axis - offset;
    if (inputAxis < 0 || shape[inputAxis] === 1) return 0;
    return own[inputAxis];
  });
}

export interface Collapsed {
  /** Output dims after dropping size-1 dims and merging contiguous runs (may be []). */
  dims: number[];
  /** strides[input][dim], matching `dims`. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges neighbours i, i+1 wherever every input walks them as one
 * (stride[i] === stride[i+1] * dims[i+1]); a same-shape elementwise op collapses to 1 dim,
 * `[B, L, H] + [H]` to 2. Fewer dims mean fewer index divisions in generated kernels.
 */
export function collapseDims(dims: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (d === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[i] * d)) {
      outDims[last] *= d;
      strides.forEach((s, j) => {
        outStrides[j][last] = s[i];
      });
      continue;
    }
    outDims.push(d);
    strides.forEach((s, j) => outStrides[j].push(s[i]));
  }
  return { dims: outDims, strides: outStrides };
}

export function normalizeAxis(op: string, axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return normalized;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
