/**
 * Dev-set scoring during fine-tuning: Spearman (x100) between gold scores and the cosines of the
 * pooled sentence vectors, as cmteb-lite scores STS. Eval mode, no graph, the run's pooling.
 */
import { spearman } from '@retro/eval';
import { noGrad, scope } from '@retro/tensor';
import type { ScoredPair } from './data/readers.js';
import type { TextEncoder } from './encoder.js';

/** pairs [N] -> Spearman x 100 of cos(sentence1, sentence2) against score. */
export function devSpearman(encoder: TextEncoder, pairs: readonly ScoredPair[], batchSize = 64): number {
  if (pairs.length < 2) throw new Error(`devSpearman: need at least 2 pairs, got ${pairs.length}`);
  const texts = [...new Set(pairs.flatMap((p) => [p.sentence1, p.sentence2]))];
  // longest first so each batch pads little
  const ids = encoder.tokenize(texts);
  const lengths = new Map(texts.map((t, i) => [t, ids[i].length]));
  texts.sort((a, b) => lengths.get(b)! - lengths.get(a)!);
  const vectors = new Map<string, Float32Array>();
  const model = encoder.model;
  const wasTraining = model.training;
  model.train(false);
  try {
    noGrad(() => {
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize);
        // The batch's tensors are freed before the next one's (device backends).
        const values = scope(() => encoder.embed(batch).toFloat32Array());
        const H = values.length / batch.length;
        batch.forEach((t, i) => vectors.set(t, values.slice(i * H, (i + 1) * H)));
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const cosines = new Float64Array(pairs.length);
  pairs.forEach((p, i) => (cosines[i] = cosine(vectors.get(p.sentence1)!, vectors.get(p.sentence2)!)));
  return 100 * spearman(cosines, Float64Array.from(pairs, (p) => p.score));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(Math.max(aa * bb, 1e-300));
}
