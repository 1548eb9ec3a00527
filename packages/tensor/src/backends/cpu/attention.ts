/**
 * FusedAttention / FusedAttentionGrad on the cpu: one batch row at a time (all its heads), so the
 * largest temporaries are [heads, Lq, Lk] for one row instead of [B, heads, Lq, Lk] for the batch,
 * and the backward recomputes the probabilities instead of keeping them (as flash attention does).
 *
 * Each step is the kernel the unfused ops would run (the GEMM, the SIMD softmax with the additive
 * mask, the hash dropout at the flat [B, heads, Lq, Lk] index, the softmax gradient), so the result
 * equals the unfused path's up to where the scale is applied: here to the gathered q (and k for
 * dQ), bit-equal when it is a power of two. The row kernels work in place on preallocated
 * [heads, Lq, Lk] buffers (no allocation per row); the GEMMs of a row (heads x Lq x Lk x d
 * multiply-adds) and the row kernels are big enough to run on every thread.
 */
import type { KernelAttrMap, KernelGroup, TensorInfo } from '../../engine/kernels.js';
import { dropoutHash, dropoutScale, dropoutThreshold } from '../../engine/dropout-mask.js';
import { formatShape } from '../../shape.js';
import { getCpuGemm } from './matmul.js';
import { floats, output } from './storage.js';
import { recycle, takeFloats } from './buffer-pool.js';
import { simdDropout, simdKernelsActive, simdSoftmax, simdSoftmaxGrad } from './simd/index.js';

interface Plan {
  batch: number;
  lq: number;
  lk: number;
  hidden: number;
  heads: number;
  d: number;
  scale: number;
  p: number;
  seed: number;
  mask: Float32Array | null;
  /** Mask rows per batch row: 1 ([B, 1, 1, Lk]) or Lq ([B, 1, Lq, Lk]); mask batch stride in elements. */
  maskRows: number;
  maskBatchStride: number;
}

function plan(kernel: string, q: TensorInfo, k: TensorInfo, v: TensorInfo, mask: TensorInfo | undefined, attrs: KernelAttrMap['FusedAttention']): Plan {
  const [batch, lq, hidden] = q.shape;
  const { heads, scale } = attrs;
  const bad =
    q.shape.length !== 3 || k.shape.length !== 3 || v.shape.length !== 3 || k.shape[0] !== batch || v.shape[0] !== batch ||
    k.shape[2] !== hidden || v.shape[2] !== hidden || k.shape[1] !== v.shape[1] || !Number.isInteger(heads) || heads < 1 || hidden % heads !== 0;
  if (bad) {
    throw new Error(`cpu kernel ${kernel}: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}, heads ${heads}: expected [B, Lq, H], [B, Lk, H], [B, Lk, H] with H divisible by heads`);
  }
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new Error(`cpu kernel ${kernel}: attr 'scale' must be a finite number, got ${String(scale)}`);
  const lk = k.shape[1];
  const { p, seed } = attrs;
  let maskRows = 1;
  let maskBatchStride = 0;
  if (mask) {
    const s = mask.shape;
    const ok = s.length === 4 && (s[0] === batch || s[0] === 1) && s[1] === 1 && (s[2] === 1 || s[2] === lq) && s[3] === lk;
    if (!ok) throw new Error(`cpu kernel ${kernel}: mask ${formatShape(s)} must be [${batch}, 1, 1, ${lk}] or [${batch}, 1, ${lq}, ${lk}] for q ${formatShape(q.shape)}, k ${formatShape(k.shape)}`);
    maskRows = s[2];
    maskBatchStride = s[0] === 1 ? 0 : maskRows * lk;
  }
  return { batch, lq, lk, hidden, heads, d: hidden / heads, scale, p, seed, mask: mask ? floats(mask) : null, maskRows, maskBatchStride };
}

/**
 * [B, L, H] row b -> [heads, L, d] (head-major, dense), times `scale`. Scaling the gathered
 * [heads, L, d] operand costs half of scaling the [heads, Lq, Lk] scores (and dQ, dK) after the
 * product, which was the costliest JS loop of a base layer's call (cpu profile).
 */
function gatherHeads(src: Float32Array, b: number, length: number, P: Plan, dst: Float32Array, scale = 1): void {
  const { hidden, heads, d } = P;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < length; i++) {
      const from = (b * length + i) * hidden + h * d;
      dst.set(src.subarray(from, from + d), (h * length + i) * d);
    }
  }
  if (scale !== 1) for (let i = 0; i < dst.length; i++) dst[i] *= scale;
}

/** [heads, L, d] -> row b of [B, L, H]. */
function scatterHeads(src: Float32Array, b: number, length: number, P: Plan, dst: Float32Array): void {
  const { hidden, heads, d } = P;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < length; i++) {
      const to = (b * length + i) * hidden + h * d;
      dst.set(src.subarray((h * length + i) * d, (h * length + i + 1) * d), to);
    }
  }
}

/** Softmax of row b's scores [heads, Lq, Lk] with its mask rows, in place: what the Softmax kernel computes. */
function softmaxRow(scores: Float32Array, b: number, P: Plan): void {
  const { heads, lq, lk, mask } = P;
  const maskSlice = mask ? mask.subarray(b * P.maskBatchStride, b * P.maskBatchStride + P.maskRows * lk) : undefined;
  if (simdKernelsActive()) {
    simdSoftmax(scores, [heads, lq, lk], maskSlice, maskSlice ? [1, P.maskRows, lk] : undefined, scores);
    return;
  }
  const plus = new Float32Array(lk);
  for (let r = 0; r < heads * lq; r++) {
    const base = r * lk;
    const maskBase = maskSlice ? ((r % lq) % P.maskRows) * lk : 0;
    // float32(x + mask), as the Softmax kernel's JS path materialises it.
    for (let c = 0; c < lk; c++) plus[c] = maskSlice ? scores[base + c] + maskSlice[maskBase + c] : scores[base + c];
    let max = -Infinity;
    for (let c = 0; c < lk; c++) if (plus[c] > max) max = plus[c];
    if (max === -Infinity) max = 0;
    let total = 0;
    for (let c = 0; c < lk; c++) {
      const e = Math.exp(plus[c] - max);
      scores[base + c] = e;
      total += e;
    }
    const inverse = 1 / total;
    for (let c = 0; c < lk; c++) scores[base + c] *= inverse;
  }
}

/** The Dropout kernel's mask on row b's [heads, Lq, Lk] block (flat index offset by the row), x -> out (may be x). */
function dropoutRow(x: Float32Array, b: number, P: Plan, out: Float32Array): Float32Array {
  if (P.p === 0) {
    if (out !== x) out.set(x);
    return out;
  }
  const offset = b * P.heads * P.lq * P.lk;
  if (simdKernelsActive()) return simdDropout(x, dropoutThreshold(P.p), dropoutScale(P.p), P.seed, offset, out);
  const threshold = dropoutThreshold(P.p);
  const scale = dropoutScale(P.p);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * (dropoutHash(P.seed >>> 0, offset + i) < threshold ? 0 : scale);
  return out;
}

/** y * (dy - sum(dy * y)) per row of Lk, written over dy. */
function softmaxGradRow(y: Float32Array, dy: Float32Array, P: Plan): void {
  const cols = P.lk;
  if (simdKernelsActive()) {
    simdSoftmaxGrad(y, dy, cols, dy);
    return;
  }
  for (let base = 0; base < y.length; base += cols) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[base + c] * y[base + c];
    for (let c = 0; c < cols; c++) dy[base + c] = y[base + c] * (dy[base + c] - dot);
  }
}

/**
 * Row b's probabilities [heads, Lq, Lk], written over `scores`, from its gathered heads: qh
 * already times the scale, kh not. (scale q) k^T is the unfused scale (q k^T) up to float32
 * rounding, and bit-equal when the scale is a power of two (1/sqrt(d) for d = 64, BERT's heads).
 */
function probabilities(qh: Float32Array, kh: Float32Array, scores: Float32Array, b: number, P: Plan): void {
  const { heads, lq, lk, d } = P;
  getCpuGemm()({ transA: false, transB: true, m: lq, n: lk, k: d, a: qh, b: kh, c: scores, batch: heads });
  softmaxRow(scores, b, P);
}

export const attentionKernels: KernelGroup = {
  FusedAttention: ([q, k, v, mask], attrs) => {
    const P = plan('FusedAttention', q, k, v, mask, attrs);
    const { batch, lq, lk, heads, d } = P;
    const out = takeFloats(batch * lq * P.hidden);
    // Scratch, fully written per batch row before it is read; back to the pool at the end.
    const scratch = [heads * lq * d, heads * lk * d, heads * lk * d, heads * lq * d, heads * lq * lk].map(takeFloats);
    const [qh, kh, vh, oh, scores] = scratch;
    const [qa, ka, va] = [floats(q), floats(k), floats(v)];
    for (let b = 0; b < batch; b++) {
      gatherHeads(qa, b, lq, P, qh, P.scale);
      gatherHeads(ka, b, lk, P, kh);
      gatherHeads(va, b, lk, P, vh);
      probabilities(qh, kh, scores, b, P);
      const dropped = dropoutRow(scores, b, P, scores);
      getCpuGemm()({ transA: false, transB: false, m: lq, n: d, k: lk, a: dropped, b: vh, c: oh, batch: heads });
      scatterHeads(oh, b, lq, P, out);
    }
    scratch.forEach(recycle);
    return [output(out, q.shape)];
  },

  FusedAttentionGrad: ([q, k, v, dOut, mask], attrs) => {
    const P = plan('FusedAttentionGrad', q, k, v, mask, attrs);
    const { batch, lq, lk, heads, d, hidden } = P;
    if (dOut.shape.length !== 3 || dOut.shape[0] !== batch || dOut.shape[1] !== lq || dOut.shape[2] !== hidden) {
      throw new Error(`cpu kernel FusedAttentionGrad: dOut ${formatShape(dOut.shape)} must be q's shape ${formatShape(q.shape)}`);
    }
    const dq = takeFloats(batch * lq * hidden);
    const dk = takeFloats(batch * lk * hidden);
    const dv = takeFloats(batch * lk * hidden);
    // Scratch, fully written per batch row before it is read; back to the pool at the end.
    const qSize = heads * lq * d;
    const kSize = heads * lk * d;
    const scoreSize = heads * lq * lk;
    const scratch = [qSize, kSize, kSize, kSize, qSize, qSize, kSize, kSize, scoreSize, scoreSize, scoreSize].map(takeFloats);
    const [qh, kh, scaledK, vh, doh, dqh, dkh, dvh, probs, droppedScratch, dScores] = scratch;
    const droppedBuffer = P.p === 0 ? probs : droppedScratch;
    const gemm = getCpuGemm();
    const [qa, ka, va, da] = [floats(q), floats(k), floats(v), floats(dOut)];
    for (let b = 0; b < batch; b++) {
      // qh and scaledK carry the scale, so no pass over [heads, Lq, Lk] or the outputs applies it.
      gatherHeads(qa, b, lq, P, qh, P.scale);
      gatherHeads(ka, b, lk, P, kh);
      gatherHeads(ka, b, lk, P, scaledK, P.scale);
      gatherHeads(va, b, lk, P, vh);
      gatherHeads(da, b, lq, P, doh);
      probabilities(qh, kh, probs, b, P);
      const dropped = dropoutRow(probs, b, P, droppedBuffer);
      // dV = P'^T dOut; dP' = dOut V^T; dP = dropout(dP') (same mask); dS = softmax'(P, dP).
      gemm({ transA: true, transB: false, m: lk, n: d, k: lq, a: dropped, b: doh, c: dvh, batch: heads });
      gemm({ transA: false, transB: true, m: lq, n: lk, k: d, a: doh, b: vh, c: dScores, batch: heads });
      softmaxGradRow(probs, dropoutRow(dScores, b, P, dScores), P);
      // dQ = scale dS K = dS (scale K); dK = scale dS^T Q = dS^T (scale Q).
      gemm({ transA: false, transB: false, m: lq, n: d, k: lk, a: dScores, b: scaledK, c: dqh, batch: heads });
      gemm({ transA: true, transB: false, m: lk, n: d, k: lq, a: dScores, b: qh, c: dkh, batch: heads });
      scatterHeads(dqh, b, lq, P, dq);
      scatterHeads(dkh, b, lk, P, dk);
      scatterHeads(dvh, b, lk, P, dv);
    }
    scratch.forEach(recycle);
    return [output(dq, q.shape), output(dk, k.shape), output(dv, v.shape)];
  },
};
