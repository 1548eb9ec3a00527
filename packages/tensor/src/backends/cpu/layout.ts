import { type KernelGroup, type TensorInfo } from '../../engine/kernels.js';
import { formatShape, sizeOf, stridesOf } from '../../shape.js';
import { CPU, output, values, type HostArray } from './storage.js';
import { takeFloats, takeZeros } from './buffer-pool.js';
import { mergeAxes } from './elementwise.js';

function like(source: HostArray, length: number): HostArray {
  return source instanceof Int32Array ? new Int32Array(length) : takeFloats(length);
}

/**
 * out[outStart + idx . outStrides] = input[inStart + idx . inStrides] for every index of `dims`:
 * axes merged where both sides chain, then contiguous inner runs copied by a plain loop (no
 * per-element callback, no subarray objects). Slice and its gradient are this copy.
 */
function copyBox(
  input: HostArray,
  inStart: number,
  inStrides: readonly number[],
  out: HostArray,
  outStart: number,
  outStrides: readonly number[],
  dims: readonly number[],
): void {
  if (sizeOf(dims) === 0) return;
  const [merged, readStrides, writeStrides] = mergeAxes(dims, [...inStrides], [...outStrides]);
  const rank = merged.length;
  const inner = merged[rank - 1];
  const ri = readStrides[rank - 1];
  const wi = writeStrides[rank - 1];
  const counter = new Array<number>(rank).fill(0);
  const total = sizeOf(merged);
  let read = inStart;
  let write = outStart;
  for (let done = 0; done < total; done += inner) {
    // Long unit-stride runs: a memcpy (a 65 MB gradient copy: 14-16 ms, against 68-76 ms for an
    // element loop over it); short ones stay in the loop, where a subarray per run costs more.
    if (ri === 1 && wi === 1 && inner >= 64) out.set(input.subarray(read, read + inner), write);
    else if (ri === 1 && wi === 1) for (let j = 0; j < inner; j++) out[write + j] = input[read + j];
    else for (let j = 0; j < inner; j++) out[write + j * wi] = input[read + j * ri];
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      read += readStrides[axis];
      write += writeStrides[axis];
      if (counter[axis] < merged[axis]) break;
      read -= readStrides[axis] * merged[axis];
      write -= writeStrides[axis] * merged[axis];
      counter[axis] = 0;
    }
  }
}

/** Copies the box [begin, begin+size) of `x` into a dense array. */
function sliceBox(x: TensorInfo, begin: readonly number[], size: readonly number[]): HostArray {
  const input = values(x);
  const strides = stridesOf(x.shape);
  const out = like(input, sizeOf(size));
  const start = begin.reduce((offset, b, axis) => offset + b * strides[axis], 0);
  copyBox(input, start, strides, out, 0, stridesOf(size), size);
  return out;
}

/** Writes `input` read with `strides` over `dims` into `out` densely (row-major). */
function copyStrided(input: HostArray, dims: readonly number[], strides: readonly number[], out: HostArray): void {
  const rank = dims.length;
  const inner = dims[rank - 1];
  const innerStride = strides[rank - 1];
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let flat = 0; flat < out.length; flat += inner) {
    if (innerStride === 1) out.set(input.subarray(offset, offset + inner), flat);
    else for (let j = 0; j < inner; j++) out[flat + j] = input[offset + j * innerStride];
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      offset += strides[axis];
      if (counter[axis] < dims[axis]) break;
      offset -= strides[axis] * dims[axis];
      counter[axis] = 0;
    }
  }
}

export const layoutKernels: KernelGroup = {
  Transpose: ([x], attrs) => {
    const perm = attrs.perm as number[];
    const input = values(x);
    const inStrides = stridesOf(x.shape);
    const shape = perm.map((axis) => x.shape[axis]);
    const out = like(input, input.length);
    const rank = perm.length;
    // Fast path: swapping the last two axes of a batch of matrices (attention heads).
    if (rank >= 2 && perm.slice(0, rank - 2).every((axis, i) => axis === i) && perm[rank - 2] === rank - 1 && perm[rank - 1] === rank - 2) {
      const rows = x.shape[rank - 2];
      const cols = x.shape[rank - 1];
      const batch = input.length / Math.max(1, rows * cols);
      for (let b = 0; b < batch; b++) {
        const base = b * rows * cols;
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[base + c * rows + r] = input[base + r * cols + c];
      }
      return [output(out, shape)];
    }
    const [dims, readStrides] = mergeAxes(shape, perm.map((axis) => inStrides[axis]));
    copyStrided(input, dims, readStrides, out);
    return [output(out, shape)];
  },

  Concat: (inputs, attrs) => {
    const axis = attrs.axis as number;
    const shape = [...inputs[0].shape];
    shape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const outer = sizeOf(shape.slice(0, axis));
    const out = like(values(inputs[0]), sizeOf(shape));
    let written = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of inputs) {
        const chunk = sizeOf(t.shape.slice(axis));
        out.set(values(t).subarray(o * chunk, (o + 1) * chunk), written);
        written += chunk;
      }
    }
    return [output(out, shape)];
  },

  Slice: ([x], attrs) => {
    const size = attrs.size as number[];
    return [output(sliceBox(x, attrs.begin as number[], size), size)];
  },

  SliceGrad: ([dy], attrs) => {
    const begin = attrs.begin as number[];
    const shape = attrs.shape as number[];
    const strides = stridesOf(shape);
    const out = takeZeros(sizeOf(shape));
    const grad = values(dy);
    const start = begin.reduce((offset, b, axis) => offset + b * strides[axis], 0);
    copyBox(grad, 0, stridesOf(dy.shape), out, start, strides, dy.shape);
    return [output(out, shape)];
  },

  Gather: ([weight, ids]) => {
    const [rows, hidden] = weight.shape;
    const table = values(weight);
    const index = values(ids);
    const out = like(table, index.length * hidden);
    for (let n = 0; n < index.length; n++) {
      const id = index[n];
      if (id < 0 || id >= rows || !Number.isInteger(id)) {
        throw new Error(`Gather: id ${id} at position ${n} is outside the table of ${rows} rows (weight ${formatShape(weight.shape)})`);
      }
      out.set(table.subarray(id * hidden, (id + 1) * hidden), n * hidden);
    }
    return [output(out, [index.length, hidden])];
  },

  ScatterAdd: ([dy, ids], attrs) => {
    const rows = attrs.numRows as number;
    const out = takeZeros(rows * dy.shape[1]);
    scatterRows(out, rows, dy, ids, attrs.paddingIdx as number | null, 'ScatterAdd');
    return [output(out, [rows, dy.shape[1]])];
  },

  ScatterAddInPlace: ([acc, dy, ids], attrs) => {
    if (acc.shape.length !== 2 || dy.shape.length !== 2 || ids.shape.length !== 1 || acc.shape[1] !== dy.shape[1] || dy.shape[0] !== ids.shape[0]) {
      throw new Error(`ScatterAddInPlace: expected acc [V, H], dy [N, H] and ids [N], got ${formatShape(acc.shape)}, ${formatShape(dy.shape)} and ${formatShape(ids.shape)}`);
    }
    scatterRows(values(acc) as Float32Array, acc.shape[0], dy, ids, attrs.paddingIdx as number | null, 'ScatterAddInPlace');
    return [];
  },
};

/** out [rows, H] += dy [N, H] scattered by ids [N] (rows looked up as paddingIdx get nothing). */
function scatterRows(out: Float32Array, rows: number, dy: TensorInfo, ids: TensorInfo, paddingIdx: number | null, kernel: string): void {
  const hidden = dy.shape[1];
  const grad = values(dy);
  const index = values(ids);
  for (let n = 0; n < index.length; n++) {
    const id = index[n];
    if (id === paddingIdx) continue;
    if (id < 0 || id >= rows || !Number.isInteger(id)) {
      throw new Error(`${kernel}: id ${id} at position ${n} is outside the ${rows} rows of the gradient (dy ${formatShape(dy.shape)})`);
    }
    const target = id * hidden;
    const source = n * hidden;
    for (let h = 0; h < hidden; h++) out[target + h] += grad[source + h];
  }
}
