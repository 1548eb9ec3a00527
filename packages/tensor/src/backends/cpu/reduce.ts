import { KERNELS } from '../../engine/kernels.js';
import { registerKernel } from '../../engine/engine.js';
import { sizeOf } from '../../shape.js';
import { CPU, floats, output } from './storage.js';

/**
 * Sum over sorted `axes`. The input is viewed as alternating runs of kept and reduced axes;
 * merging adjacent axes of the same kind keeps the loops few and contiguous.
 */
export function registerReduceKernels(): void {
  registerKernel(CPU, KERNELS.Sum, ([x], attrs) => {
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
    if (total > 0) {
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
  });
}
