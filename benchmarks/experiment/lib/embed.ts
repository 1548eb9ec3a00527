/**
 * Both sentence vectors (CLS and mean over real tokens) from ONE encoder pass per text, so the two
 * poolings cost one evaluation's forward time instead of two. `checkAgainstEncode` compares them
 * with @retro/bert's own `model.encode` (the tested path) on a sample before they are used.
 */
import { AutoModelForMaskedLM, type MaskedLMModel } from '@retro/bert';
import { AutoTokenizer, type AnyTokenizer } from '@retro/data';
import { noGrad, tensor } from '@retro/tensor';

export interface PooledVectors {
  dim: number;
  /** text -> [H] (unnormalised; the evaluator takes cosines). */
  cls: Map<string, Float32Array>;
  mean: Map<string, Float32Array>;
  /** Forward time of all batches, ms. */
  forwardMs: number;
  tokens: number;
}

export interface CheckpointEncoder {
  model: MaskedLMModel;
  tokenizer: AnyTokenizer;
}

export async function openCheckpoint(dir: string): Promise<CheckpointEncoder> {
  const model = AutoModelForMaskedLM.fromPretrained(dir);
  model.eval();
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  return { model, tokenizer };
}

/** Texts -> [CLS] ... [SEP] ids, truncated to maxLength, unpadded (encodeBatch pads by default). */
export function tokenizeTexts(tokenizer: AnyTokenizer, texts: readonly string[], maxLength: number): number[][] {
  return tokenizer.encodeBatch([...texts], { maxLength, truncation: true, padding: false }).encodings.map((e) => [...e.ids]);
}

/**
 * Embeds every distinct text once: batches of similar length, eval mode, no graph.
 * Shapes: ids [B, L] -> lastHiddenState [B, L, H] -> cls [B, H] (row 0), mean [B, H] (mask-weighted).
 */
export function embedBoth(encoder: CheckpointEncoder, texts: readonly string[], options: { batchSize: number; maxLength: number; onBatch?: (done: number, total: number) => void }): PooledVectors {
  const { model, tokenizer } = encoder;
  const distinct = [...new Set(texts)];
  const sequences = tokenizeTexts(tokenizer, distinct, options.maxLength);
  const H = model.config.hiddenSize;
  const pad = model.config.padTokenId;
  const order = sequences.map((_, i) => i).sort((a, b) => sequences[b]!.length - sequences[a]!.length || a - b);
  const cls = new Map<string, Float32Array>();
  const mean = new Map<string, Float32Array>();
  let forwardMs = 0;
  let tokens = 0;
  model.train(false);
  noGrad(() => {
    for (let start = 0; start < order.length; start += options.batchSize) {
      const rows = order.slice(start, start + options.batchSize);
      const L = Math.max(...rows.map((i) => sequences[i]!.length));
      const ids = new Int32Array(rows.length * L).fill(pad);
      const mask = new Int32Array(rows.length * L);
      rows.forEach((row, b) => {
        ids.set(sequences[row]!, b * L);
        mask.fill(1, b * L, b * L + sequences[row]!.length);
        tokens += sequences[row]!.length;
      });
      const t0 = performance.now();
      const { lastHiddenState } = model.base.forward({ inputIds: tensor(ids, [rows.length, L]), attentionMask: tensor(mask, [rows.length, L]) });
      const hidden = lastHiddenState.toFloat32Array();
      forwardMs += performance.now() - t0;
      rows.forEach((row, b) => {
        const n = sequences[row]!.length;
        const base = b * L * H;
        cls.set(distinct[row]!, hidden.slice(base, base + H));
        // float64 sum over the n real tokens, then / n (padding rows excluded)
        const acc = new Float64Array(H);
        for (let t = 0; t < n; t++) for (let h = 0; h < H; h++) acc[h] += hidden[base + t * H + h]!;
        mean.set(distinct[row]!, Float32Array.from(acc, (v) => v / n));
      });
      options.onBatch?.(Math.min(start + options.batchSize, order.length), order.length);
    }
  });
  return { dim: H, cls, mean, forwardMs, tokens };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * Largest 1 - cosine between our pooled vectors and `model.encode(..., { pooling })` over `sample`
 * texts, per pooling. Throws above `tolerance`: the shortcut must not change what is measured.
 */
export function checkAgainstEncode(encoder: CheckpointEncoder, sample: readonly string[], maxLength: number, tolerance = 1e-5): { cls: number; mean: number } {
  // batch size 5 here vs 16 below: different padding per text, which must not matter
  const vectors = embedBoth(encoder, sample, { batchSize: 5, maxLength });
  const worst = { cls: 0, mean: 0 };
  for (const pooling of ['cls', 'mean'] as const) {
    const ref = encoder.model.encode([...sample], { tokenizer: encoder.tokenizer, pooling, maxLength, batchSize: 16 }).toFloat32Array();
    sample.forEach((text, i) => {
      const ours = vectors[pooling].get(text);
      if (!ours) throw new Error(`checkAgainstEncode: no ${pooling} vector for sample text ${i}`);
      worst[pooling] = Math.max(worst[pooling], 1 - cosine(ours, ref.subarray(i * vectors.dim, (i + 1) * vectors.dim)));
    });
    if (worst[pooling] > tolerance) {
      throw new Error(`checkAgainstEncode: ${pooling} pooling differs from model.encode: max 1-cos ${worst[pooling].toExponential(2)} > ${tolerance}`);
    }
  }
  return worst;
}
