import type { KernelGroup } from '../../engine/kernels.js';
import { sizeOf } from '../../shape.js';
import { CPU, floats, output } from './storage.js';

/**
 * out[j] += sum over r < rows of x[offset + r * cols + j], j < cols: the column sums of a
 * contiguous [rows, cols] block (bias gradients). Eight rows per pass, added pairwise in float64
 * before they reach the float64 accumulator, so each pass reads eight rows for one
 * read-modify-write of `out` instead of eight, with no odometer.
 */
function columnSums(x: Float32Array, offset: number, rows: number, cols: number, out: Float64Array, outOffset: number): void {
  const c2 = 2 * cols;
  const c3 = 3 * cols;
  const c4 = 4 * cols;
  const c5 = 5 * cols;
  const c6 = 6 * cols;
  const c7 = 7 * cols;
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const base = offset + r * cols;
    for (let j = 0; j < cols; j++) {
      const p = base + j;
      out[outOffset + j] += x[p] + x[p + cols] + (x[p + c2] + x[p + c3]) + (x[p + c4] + x[p + c5] + (x[p + c6] + x[p + c7]));
    }
  }
  for (; r < rows; r++) {
    const base = offset + r * cols;
    for (let j = 0; j < cols; j++) out[outOffset + j] += x[base + j];
  }
}

/**
 * Sum over sorted `axes`. The input is viewed as alternating runs of kept and reduced axes;
 * merging adjacent axes of the same kind keeps the loops few and contiguous.
 */
export const reduceKernels: KernelGroup = {
  Sum: ([x], attrs) => {
    const axes = attrs.axes as number[];
    const keepDims = attrs.keepDims as boolean;
    const input = floats(x);
    const shape = x.shape;
    const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
    const out = new Float64Array(sizeOf(outShape));
    // Merge runs: groups of [size, reduced?].
    const groups: Array<{ size: number; reduced: boolean }> = [];
    shape.forEach((dim, axis) => {
      const reduced = axes.includes(axis);
      const last = groups[groups.length - 1];
      if (last && last.reduced === reduced) last.size *= dim;
      else groups.push({ size: dim, reduced });
    });
    // A rank-0 input is one kept element (otherwise the loop below has no inner group and sums nothing).
    if (groups.length === 0) groups.push({ size: 1, reduced: false });
    // Output strides for kept groups, zero for reduced ones.
    const groupStrides = new Array<number>(groups.length);
    let stride = 1;
    for (let g = groups.length - 1; g >= 0; g--) {
      groupStrides[g] = groups[g].reduced ? 0 : stride;
      if (!groups[g].reduced) stride *= groups[g].size;
    }
    const sizes = groups.map((g) => g.size);
    const total = input.length;
    // [K?, R, C] with R reduced and C kept (leading-axes sums, bias gradients): column sums per K.
    const columnCase = groups.length >= 2 && groups.length <= 3 && groups[groups.length - 2].reduced && !groups[groups.length - 1].reduced;
    if (total > 0 && columnCase) {
      const cols = sizes[sizes.length - 1];
      const rows = sizes[sizes.length - 2];
      const outer = groups.length === 3 ? sizes[0] : 1;
      for (let o = 0; o < outer; o++) columnSums(input, o * rows * cols, rows, cols, out, o * cols);
    } else if (total > 0) {
      const counter = new Array<number>(groups.length).fill(0);
      let target = 0;
      const innerSize = sizes[sizes.length - 1];
      const innerStride = groupStrides[groups.length - 1];
      for (let flat = 0; flat < total; flat += innerSize) {
        if (innerStride === 0) {
          let acc = 0;
          for (let j = 0; j < innerSize; j++) acc += input[flat + j];
          out[target] += acc;
        } else {
          for (let j = 0; j < innerSize; j++) out[target + j] += input[flat + j];
        }
        for (let g = groups.length - 2; g >= 0; g--) {
          counter[g]++;
          target += groupStrides[g];
          if (counter[g] < sizes[g]) break;
          target -= groupStrides[g] * sizes[g];
          counter[g] = 0;
        }
      }
    }
    return [output(Float32Array.from(out), outShape)];
  },
};
