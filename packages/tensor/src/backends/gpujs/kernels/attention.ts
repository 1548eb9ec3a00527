/**
 * FusedAttention / FusedAttentionGrad on gpujs, composed from this backend's own kernels (Transpose,
 * MatMul, Softmax, Dropout, SoftmaxGrad): the same arithmetic as the unfused ops, kept on the device.
 * Unlike the cpu version it does hold [B, heads, Lq, Lk] tensors (GPU memory is not what the fused
 * cpu kernel saves); a single-pass GPU kernel is left for later.
 */
import type { KernelAttrMap, KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import { formatShape } from '../../../shape.js';
import { expectInputs } from './common.js';
import { layoutKernels } from './layout.js';
import { matmulKernels } from './matmul.js';
import { softmaxKernels } from './softmax.js';
import { elementwiseKernels } from './elementwise.js';

// The component kernels take their attrs as runKernel would hand them over: every one filled in.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const run = (kernel: KernelFunc<any> | undefined, inputs: TensorInfo[], attrs: object = {}): TensorInfo => kernel!(inputs, attrs as never)[0];

interface Parts {
  heads: number;
  scale: number;
  p: number;
  seed: number;
}

function parts(kernel: string, q: TensorInfo, k: TensorInfo, attrs: KernelAttrMap['FusedAttention']): Parts {
  const { heads } = attrs;
  const hidden = q.shape[2];
  if (q.shape.length !== 3 || k.shape.length !== 3 || !Number.isInteger(heads) || heads < 1 || hidden % heads !== 0) {
    throw new Error(`gpujs kernel ${kernel}: q ${formatShape(q.shape)}, k ${formatShape(k.shape)} with ${heads} heads: expected [B, L, H] with H divisible by heads`);
  }
  return { heads, scale: attrs.scale, p: attrs.p, seed: attrs.seed };
}

/** [B, L, H] -> [B, heads, L, d]. */
function split(x: TensorInfo, heads: number): TensorInfo {
  const [b, l, h] = x.shape;
  return run(layoutKernels.Transpose, [{ ...x, shape: [b, l, heads, h / heads] }], { perm: [0, 2, 1, 3] });
}

/** [B, heads, L, d] -> [B, L, H]. */
function merge(x: TensorInfo): TensorInfo {
  const [b, heads, l, d] = x.shape;
  const t = run(layoutKernels.Transpose, [x], { perm: [0, 2, 1, 3] });
  return { ...t, shape: [b, l, heads * d] };
}

/** Probabilities before and after dropout, [B, heads, Lq, Lk]. */
function probabilities(qh: TensorInfo, kh: TensorInfo, mask: TensorInfo | undefined, P: Parts): { probs: TensorInfo; dropped: TensorInfo } {
  const scores = run(matmulKernels.MatMul, [qh, kh], { transA: false, transB: true, alpha: P.scale });
  const probs = run(softmaxKernels.Softmax, mask ? [scores, mask] : [scores]);
  return { probs, dropped: P.p === 0 ? probs : run(elementwiseKernels.Dropout, [probs], { p: P.p, seed: P.seed }) };
}

const fusedAttention: KernelFunc<'FusedAttention'> = (inputs, attrs) => {
  expectInputs('FusedAttention', inputs, 3, 4);
  const [q, k, v, mask] = inputs;
  const P = parts('FusedAttention', q, k, attrs);
  const { dropped } = probabilities(split(q, P.heads), split(k, P.heads), mask, P);
  return [merge(run(matmulKernels.MatMul, [dropped, split(v, P.heads)], { transA: false, transB: false, alpha: 1 }))];
};

const fusedAttentionGrad: KernelFunc<'FusedAttentionGrad'> = (inputs, attrs) => {
  expectInputs('FusedAttentionGrad', inputs, 4, 5);
  const [q, k, v, dOut, mask] = inputs;
  const P = parts('FusedAttentionGrad', q, k, attrs);
  const [qh, kh, vh, dh] = [split(q, P.heads), split(k, P.heads), split(v, P.heads), split(dOut, P.heads)];
  const { probs, dropped } = probabilities(qh, kh, mask, P);
  const dv = run(matmulKernels.MatMul, [dropped, dh], { transA: true, transB: false, alpha: 1 });
  const dDropped = run(matmulKernels.MatMul, [dh, vh], { transA: false, transB: true, alpha: 1 });
  const dProbs = P.p === 0 ? dDropped : run(elementwiseKernels.Dropout, [dDropped], { p: P.p, seed: P.seed });
  const dScores = run(softmaxKernels.SoftmaxGrad, [probs, dProbs]);
  const dq = run(matmulKernels.MatMul, [dScores, kh], { transA: false, transB: false, alpha: P.scale });
  const dk = run(matmulKernels.MatMul, [dScores, qh], { transA: true, transB: false, alpha: P.scale });
  return [merge(dq), merge(dk), merge(dv)];
};

export const attentionKernels: KernelGroup = { FusedAttention: fusedAttention, FusedAttentionGrad: fusedAttentionGrad };
