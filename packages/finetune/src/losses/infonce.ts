/**
 * InfoNCE with in-batch and listed hard negatives, as FlagEmbedding/bge train their bi-encoders:
 * every query scores every passage of the batch (its own positive, its own hard negatives and
 * every other query's passages), and the loss is the cross-entropy of picking its positive.
 */
import { Tensor, crossEntropy, matmul, narrow, reshape, scale, add, tensor } from '@retro/tensor';
import { l2Normalize } from '../pooling.js';

export interface InfoNceOptions {
  /** Divides the similarities before the softmax; bge uses 0.02, SimCSE 0.05. */
  temperature: number;
  /** Also the passage -> query direction (each positive picks its query among the batch's queries); the two losses are averaged. */
  symmetric?: boolean;
  /** Score by cosine (unit vectors) rather than raw dot products. Default true (bge). */
  normalize?: boolean;
}

/**
 * queries [B, H]; passages [B * G, H] in groups of G per query: row b*G is query b's positive,
 * rows b*G+1 .. b*G+G-1 its hard negatives (G = 1: in-batch negatives only).
 * scores = q p^T / temperature [B, B*G]; loss = mean_b CE(scores[b], b*G).
 * symmetric: + mean_b CE(p_pos q^T / temperature [B, B], b), averaged with the first. Returns [].
 */
export function infoNce(queries: Tensor, passages: Tensor, options: InfoNceOptions): Tensor {
  const { temperature } = options;
  if (!(temperature > 0)) throw new Error(`infoNce: temperature must be > 0, got ${temperature}`);
  if (queries.rank !== 2 || passages.rank !== 2 || queries.shape[1] !== passages.shape[1]) {
    throw new Error(`infoNce: expected queries [B, H] and passages [B*G, H], got [${queries.shape.join(', ')}] and [${passages.shape.join(', ')}]`);
  }
  const [B, H] = queries.shape;
  const G = passages.shape[0] / B;
  if (!Number.isInteger(G) || G < 1) {
    throw new Error(`infoNce: passages [${passages.shape.join(', ')}] are not a whole number of groups per query (B = ${B})`);
  }
  const q = options.normalize === false ? queries : l2Normalize(queries);
  const p = options.normalize === false ? passages : l2Normalize(passages);
  const scores = matmul(q, p, { transB: true, alpha: 1 / temperature });
  const targets = tensor(Int32Array.from({ length: B }, (_, b) => b * G), [B]);
  const forward = crossEntropy(scores, targets);
  if (!options.symmetric) return forward;
  const positives = G === 1 ? p : reshape(narrow(reshape(p, [B, G, H]), 1, 0, 1), [B, H]);
  const backward = crossEntropy(matmul(positives, q, { transB: true, alpha: 1 / temperature }), tensor(Int32Array.from({ length: B }, (_, b) => b), [B]));
  return scale(add(forward, backward), 0.5);
}
