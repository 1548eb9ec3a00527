/**
 * CoSENT (Su Jianlin 2022; text2vec's loss): for every two pairs (i, j) whose gold scores say
 * i is more similar than j, penalise cos_j approaching or passing cos_i:
 * loss = log(1 + sum_{s_i > s_j} exp(lambda * (cos_j - cos_i))).
 */
import { Tensor, concat, crossEntropy, matmul, mul, reshape, sub, sum, tensor, maskedFill, zeros } from '@retro/tensor';
import { l2Normalize } from '../pooling.js';

export interface CosentOptions {
  /** lambda, the sharpness of the ranking penalty. Default 20 (text2vec, the paper). */
  scale?: number;
}

/** Fills pairs that are not ordered; exp(-1e4) is 0 in float32, so they drop out of the sum. */
const NOT_ORDERED = -1e4;

/** a [B, H], b [B, H], gold scores [B] -> [] (cosines of row-aligned pairs, ranked against the gold order). */
export function cosent(a: Tensor, b: Tensor, gold: ArrayLike<number>, options: CosentOptions = {}): Tensor {
  const lambda = options.scale ?? 20;
  if (a.rank !== 2 || b.rank !== 2 || a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
    throw new Error(`cosent: expected two [B, H] tensors, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  const B = a.shape[0];
  if (gold.length !== B) throw new Error(`cosent: ${gold.length} gold scores for ${B} pairs`);
  for (let i = 0; i < B; i++) if (!Number.isFinite(gold[i])) throw new Error(`cosent: gold score ${i} is ${gold[i]}, expected a finite number`);
  const cos = sum(mul(l2Normalize(a), l2Normalize(b)), 1); // [B]
  // diff[i, j] = lambda * (cos_j - cos_i), via a rank-1 outer difference: ones x cos^T - cos x ones^T.
  const column = reshape(cos, [B, 1]);
  const ones = tensor(new Float32Array(B).fill(1), [B, 1]);
  const diff = mul(sub(matmul(ones, column, { transB: true }), matmul(column, ones, { transB: true })), lambda);
  const unordered = new Int32Array(B * B);
  for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) unordered[i * B + j] = gold[i] > gold[j] ? 0 : 1;
  const terms = maskedFill(diff, tensor(unordered, [B, B]), NOT_ORDERED);
  // log(1 + sum exp(t)) = logsumexp([0, t...]) = CE of picking the leading 0.
  const logits = concat([zeros([1, 1]), reshape(terms, [1, B * B])], 1);
  return crossEntropy(logits, tensor(new Int32Array([0]), [1]));
}
