/**
 * Sentence embeddings: tokenize (if given texts), batch by length, pad, run the encoder in eval
 * mode without a graph, pool (CLS or masked mean), optionally L2-normalise.
 */
import { Tensor, tensor, noGrad, narrow, reshape, mul, scope, sum, div } from '@retro/tensor';
import type { BertConfig } from './config.js';
import type { EncoderOutput, ForwardInput } from './types.js';

/** One tokenizer output: ids alone, or ids with a mask (padding positions have mask 0). */
export type EncodedItem =
  | readonly number[]
  | { readonly ids?: readonly number[]; readonly inputIds?: readonly number[]; readonly input_ids?: readonly number[]; readonly attentionMask?: readonly number[]; readonly attention_mask?: readonly number[] };

/**
 * The minimal tokenizer interface `encode` needs (any @retro/data or HF-tokenizers-like object):
 * `encodeBatch(texts)` giving, per text, the ids with special tokens ([CLS] ... [SEP]).
 */
export interface TokenizerLike {
  encodeBatch(
    texts: string[],
    options?: { maxLength?: number; truncation?: boolean },
  ):
    | readonly EncodedItem[]
    | { readonly inputIds: readonly (readonly number[])[]; readonly attentionMask?: readonly (readonly number[])[] }
    // @retro/data's BatchEncoding: one unpadded encoding per text.
    | { readonly encodings: readonly EncodedItem[] };
}

export type EncodeInput = readonly string[] | readonly (readonly number[])[];

export interface EncodeOptions {
  /** Needed when the inputs are texts. */
  tokenizer?: TokenizerLike;
  /** Sequences per forward pass (default 32). */
  batchSize?: number;
  /** Longest sequence accepted (default: what the position table allows). Longer ones throw. */
  maxLength?: number;
  /** 'cls' (default, RetroMAE's sentence embedding) or 'mean' over real tokens. */
  pooling?: 'cls' | 'mean';
  /** Divide each embedding by its L2 norm (max(norm, 1e-12), as torch F.normalize). */
  normalize?: boolean;
}

/** What `encode` needs of a model. */
export interface EncodableModel {
  readonly config: BertConfig;
  training: boolean;
  train(mode?: boolean): unknown;
  readonly base: { forward(input: Omit<ForwardInput, 'labels'>): EncoderOutput };
}

function itemIds(item: EncodedItem, index: number): number[] {
  if (Array.isArray(item)) return [...(item as number[])];
  const record = item as Exclude<EncodedItem, readonly number[]>;
  const ids = record.inputIds ?? record.ids ?? record.input_ids;
  if (!ids) throw new Error(`encode: tokenizer output ${index} has no ids (expected an array, or an object with ids / inputIds)`);
  const mask = record.attentionMask ?? record.attention_mask;
  // A tokenizer that pads itself marks pads with 0; drop them, this function pads per batch.
  return mask ? ids.filter((_, i) => mask[i] !== 0) : [...ids];
}

function tokenize(tokenizer: TokenizerLike, texts: string[], maxLength: number): number[][] {
  const out = tokenizer.encodeBatch(texts, { maxLength, truncation: true });
  if (Array.isArray(out)) return (out as readonly EncodedItem[]).map(itemIds);
  if ('encodings' in out) return out.encodings.map(itemIds);
  const batch = out as { inputIds: readonly (readonly number[])[]; attentionMask?: readonly (readonly number[])[] };
  return batch.inputIds.map((ids, i) => itemIds({ inputIds: ids, attentionMask: batch.attentionMask?.[i] }, i));
}

/** Sequences [N] -> embeddings [N, H] in the input order. */
export function encode(model: EncodableModel, inputs: EncodeInput, options: EncodeOptions = {}): Tensor {
  const config = model.config;
  const isRoberta = config.modelType === 'roberta';
  // RoBERTa positions start at pad + 1, so the table holds pad + 1 fewer tokens.
  const positionLimit = isRoberta ? config.maxPositionEmbeddings - config.padTokenId - 1 : config.maxPositionEmbeddings;
  const maxLength = options.maxLength ?? positionLimit;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`encode: batchSize must be a positive integer, got ${batchSize}`);
  let sequences: number[][];
  if (inputs.length > 0 && typeof inputs[0] === 'string') {
    if (!options.tokenizer) throw new Error('encode: texts need options.tokenizer (an object with encodeBatch(texts))');
    sequences = tokenize(options.tokenizer, [...(inputs as readonly string[])], maxLength);
    if (sequences.length !== inputs.length) throw new Error(`encode: tokenizer returned ${sequences.length} sequences for ${inputs.length} texts`);
  } else {
    sequences = (inputs as readonly (readonly number[])[]).map((ids) => [...ids]);
  }
  sequences.forEach((ids, i) => {
    if (ids.length === 0) throw new Error(`encode: sequence ${i} is empty`);
    if (ids.length > Math.min(maxLength, positionLimit)) {
      throw new Error(`encode: sequence ${i} has ${ids.length} tokens, more than maxLength ${Math.min(maxLength, positionLimit)}`);
    }
  });
  const hidden = config.hiddenSize;
  const result = new Float32Array(sequences.length * hidden);
  // Similar lengths share a batch so little compute goes to padding.
  const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].length - sequences[a].length || a - b);
  const wasTraining = model.training;
  model.train(false);
  try {
    noGrad(() => {
      for (let start = 0; start < order.length; start += batchSize) {
        // Each batch's tensors (ids, activations, pooled rows) are freed before the next one's.
        scope(() => {
          const rows = order.slice(start, start + batchSize);
          const length = Math.max(...rows.map((i) => sequences[i].length));
          const ids = new Int32Array(rows.length * length).fill(config.padTokenId);
          const mask = new Int32Array(rows.length * length);
          rows.forEach((row, b) => {
            ids.set(sequences[row], b * length);
            mask.fill(1, b * length, b * length + sequences[row].length);
          });
          const maskTensor = tensor(mask, [rows.length, length]);
          const { lastHiddenState } = model.base.forward({ inputIds: tensor(ids, [rows.length, length]), attentionMask: maskTensor });
          let pooled: Tensor;
          if (options.pooling === 'mean') {
            const weights = reshape(tensor(Float32Array.from(mask), [rows.length, length]), [rows.length, length, 1]);
            pooled = div(sum(mul(lastHiddenState, weights), 1), sum(weights, 1));
          } else {
            pooled = reshape(narrow(lastHiddenState, 1, 0, 1), [rows.length, hidden]);
          }
          let values = pooled.toFloat32Array();
          checkFiniteRows(values, hidden, rows);
          if (options.normalize) values = l2Normalize(values, hidden);
          rows.forEach((row, b) => result.set(values.subarray(b * hidden, (b + 1) * hidden), row * hidden));
        }, 'encode batch');
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return tensor(result, [sequences.length, hidden]);
}

/** A NaN/Inf embedding would be written out as null: fail naming the input instead. */
function checkFiniteRows(values: Float32Array, width: number, rows: readonly number[]): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const row = rows[Math.floor(i / width)];
      throw new Error(`encode: the embedding of input ${row} holds ${values[i]} at dimension ${i % width}; the model produced non-finite values (overflow or broken weights)`);
    }
  }
}

function l2Normalize(values: Float32Array, width: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row * width < values.length; row++) {
    let squares = 0;
    for (let i = 0; i < width; i++) squares += values[row * width + i] ** 2;
    const norm = Math.max(Math.sqrt(squares), 1e-12);
    for (let i = 0; i < width; i++) out[row * width + i] = values[row * width + i] / norm;
  }
  return out;
}
