import { KERNELS } from '../engine/kernels.js';
import { attach } from '../autograd.js';
import { formatShape } from '../shape.js';
import type { MatmulOptions, Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { reshape } from './shape-ops.js';
import { sum } from './reduce.js';

export type { MatmulOptions };

function describe(a: Tensor, b: Tensor, transA: boolean, transB: boolean): string {
  return `${formatShape(a.shape)}${transA ? '^T' : ''} x ${formatShape(b.shape)}${transB ? '^T' : ''}`;
}

/**
 * Matrix product alpha * op(a) op(b) (+ bias). a: [...batch, M, K] (or [..., K, M] with transA);
 * b: [...batch, K, N] (or [..., N, K] with transB), or a 2-D b shared by every batch item;
 * bias [N]. Returns [...batch, M, N].
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const alpha = options.alpha ?? 1;
  const bias = options.bias;
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: ${describe(a, b, transA, transB)}: both operands need at least 2 dims`);
  }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`matmul: expected float32 operands, got ${a.dtype} and ${b.dtype}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new Error(`matmul: alpha must be a finite number, got ${String(alpha)}`);
  if (bias) {
    const n = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
    if (bias.rank !== 1 || bias.shape[0] !== n || bias.dtype !== 'float32') {
      throw new Error(`matmul: ${describe(a, b, transA, transB)}: bias must be float32 [${n}], got ${bias.dtype} ${formatShape(bias.shape)}`);
    }
  }
  const k = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const kB = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  if (k !== kB) {
    throw new Error(`matmul: ${describe(a, b, transA, transB)}: inner dimensions ${k} and ${kB} differ`);
  }
  if (b.rank > 2) {
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    if (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i])) {
      throw new Error(`matmul: ${describe(a, b, transA, transB)}: batch dimensions ${formatShape(batchA)} and ${formatShape(batchB)} differ`);
    }
  }
  // A shared 2-D weight with an untransposed batched a is one big 2-D product: flatten it.
  if (b.rank === 2 && a.rank > 2 && !transA) {
    const rows = a.size / a.shape[a.rank - 1];
    const flat = matmul(reshape(a, [rows, a.shape[a.rank - 1]]), b, { transB, alpha, bias });
    return reshape(flat, [...a.shape.slice(0, -1), flat.shape[1]]);
  }
  const out = callKernel1(KERNELS.MatMul, bias ? [a, b, bias] : [a, b], { transA, transB, alpha });
  return attach(out, 'matmul', bias ? [a, b, bias] : [a, b], (dy) => {
    let gradA: Tensor | null = null;
    let gradB: Tensor | null = null;
    // d(bias) = column sums of dy over every leading axis.
    const gradBias = bias?.requiresGrad ? sum(dy, Array.from({ length: dy.rank - 1 }, (_, i) => i)) : null;
    if (a.requiresGrad) {
      if (!transA) {
        gradA = callKernel1(KERNELS.MatMul, [dy, b], { transA: false, transB: !transB, alpha });
      } else if (b.rank === 2 && a.rank > 2) {
        // op(b) dy^T would put the 2-D b first, and the kernel takes its batch from its first
        // operand: compute (dy op(b)^T)^T with the batched dy first instead.
        const perItem = callKernel1(KERNELS.MatMul, [dy, b], { transA: false, transB: !transB, alpha });
        const perm = Array.from({ length: a.rank }, (_, i) => (i === a.rank - 2 ? a.rank - 1 : i === a.rank - 1 ? a.rank - 2 : i));
        gradA = callKernel1(KERNELS.Transpose, [perItem], { perm });
      } else {
        gradA = callKernel1(KERNELS.MatMul, [b, dy], { transA: transB, transB: true, alpha });
      }
    }
    if (b.requiresGrad) {
      if (b.rank === 2 && a.rank > 2) {
        // transA with a shared b: sum the per-item gradients.
        const perItem = transB
          ? callKernel1(KERNELS.MatMul, [dy, a], { transA: true, transB: transA, alpha })
          : callKernel1(KERNELS.MatMul, [a, dy], { transA: !transA, transB: false, alpha });
        gradB = sum(perItem, Array.from({ length: a.rank - 2 }, (_, i) => i));
      } else {
        gradB = transB
          ? callKernel1(KERNELS.MatMul, [dy, a], { transA: true, transB: transA, alpha })
          : callKernel1(KERNELS.MatMul, [a, dy], { transA: !transA, transB: false, alpha });
      }
    }
    return bias ? [gradA, gradB, gradBias] : [gradA, gradB];
  });
}
