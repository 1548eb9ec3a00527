import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { formatShape, normalizeAxis, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { callKernel, callKernel1 } from './kernel-call.js';

/** Same values, new shape (one dim may be -1). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const inferred = target.indexOf(-1);
  if (inferred >= 0) {
    const known = target.reduce((n, dim, i) => (i === inferred ? n : n * dim), 1);
    target[inferred] = known === 0 ? 0 : x.size / known;
  }
  if (sizeOf(target) !== x.size || target.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw new Error(`reshape: cannot view ${formatShape(x.shape)} (${x.size} elements) as ${formatShape(shape)}`);
  }
  const out = new Tensor({ ...x.info, shape: target });
  return attach(out, 'reshape', [x], (dy) => [reshape(dy, x.shape)]);
}

/** Axes reordered: out.shape[i] = x.shape[perm[i]]. Materialises. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const axes = perm.map((axis) => normalizeAxis('permute', axis, x.rank));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new Error(`permute: [${perm}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  if (axes.every((axis, i) => axis === i)) return x;
  const out = callKernel1(KERNELS.Transpose, [x], { perm: axes });
  const inverse = new Array<number>(axes.length);
  axes.forEach((axis, i) => (inverse[axis] = i));
  return attach(out, 'permute', [x], (dy) => [permute(dy, inverse)]);
}

/** Swaps two axes. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const a = normalizeAxis('transpose', dim0, x.rank);
  const b = normalizeAxis('transpose', dim1, x.rank);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** Joins tensors along `axis`; other dims must agree. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  const rank = tensors[0].rank;
  const dim = normalizeAxis('concat', axis, rank);
  for (const [i, t] of tensors.entries()) {
    const mismatch = t.rank !== rank || t.shape.some((d, k) => k !== dim && d !== tensors[0].shape[k]);
    if (mismatch) {
      throw new Error(`concat: tensor ${i} has shape ${formatShape(t.shape)}, incompatible with ${formatShape(tensors[0].shape)} along axis ${dim}`);
    }
    if (t.dtype !== tensors[0].dtype) throw new Error(`concat: tensor ${i} is ${t.dtype}, tensor 0 is ${tensors[0].dtype}`);
  }
  if (tensors.length === 1) return tensors[0];
  const out = callKernel1(KERNELS.Concat, tensors, { axis: dim });
  return attach(out, 'concat', tensors, (dy) => {
    let start = 0;
    return tensors.map((t) => {
      const piece = narrow(dy, dim, start, t.shape[dim]);
      start += t.shape[dim];
      return piece;
    });
  });
}

/** The box x[begin : begin + size] (size -1 = to the end). */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`slice: begin [${begin}] and size [${size}] must both have ${x.rank} entries for ${formatShape(x.shape)}`);
  }
  const finalSize = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  finalSize.forEach((s, i) => {
    if (begin[i] < 0 || s < 0 || begin[i] + s > x.shape[i]) {
      throw new Error(`slice: box begin [${begin}] size [${size}] falls outside ${formatShape(x.shape)} on axis ${i}`);
    }
  });
  if (finalSize.every((s, i) => s === x.shape[i])) return x;
  const out = callKernel1(KERNELS.Slice, [x], { begin: [...begin], size: finalSize });
  return attach(out, 'slice', [x], (dy) => [callKernel1(KERNELS.SliceGrad, [dy], { begin: [...begin], shape: [...x.shape] })]);
}

/** `length` entries of axis `dim` from `start` (torch.narrow). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const axis = normalizeAxis('narrow', dim, x.rank);
  const begin = x.shape.map((_, i) => (i === axis ? start : 0));
  const size = x.shape.map((d, i) => (i === axis ? length : d));
  return slice(x, begin, size);
}

/** Converts dtype (float -> int truncates). No gradient. */
export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  if (x.dtype === dtype) return x;
  return callKernel(KERNELS.Cast, [x], { dtype })[0];
}
