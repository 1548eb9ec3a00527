/**
 * The model side of fine-tuning: texts -> ids -> padded [B, L] -> encoder body -> pooled [B, H].
 * Only the encoder body (`bert.*` / `roberta.*`) trains; an MLM head the checkpoint carries is
 * kept as it was, so the result still loads wherever the input did.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForMaskedLM, type MaskedLMModel } from '@retro/bert';
import { AutoTokenizer, type AnyTokenizer } from '@retro/data';
import { Tensor, tensor } from '@retro/tensor';
import { pool, type Pooling } from './pooling.js';

/** Sentence-pair data is short; 64 tokens cover STS-B and most titles. */
export const DEFAULT_MAX_LENGTH = 64;

export interface TextEncoderOptions {
  /** Longer texts are truncated to this many tokens ([CLS] and [SEP] included). Default: 64, or the position table if shorter. */
  maxLength?: number;
  pooling: Pooling;
}

/** Wraps a masked-LM model and its tokenizer; `embed` follows the current grad mode and train/eval mode. */
export class TextEncoder {
  private readonly ids = new Map<string, number[]>();
  readonly maxLength: number;
  readonly pooling: Pooling;

  constructor(
    readonly model: MaskedLMModel,
    readonly tokenizer: AnyTokenizer,
    options: TextEncoderOptions,
  ) {
    const limit = model.config.modelType === 'roberta' ? model.config.maxPositionEmbeddings - model.config.padTokenId - 1 : model.config.maxPositionEmbeddings;
    const maxLength = options.maxLength ?? Math.min(DEFAULT_MAX_LENGTH, limit);
    if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > limit) {
      throw new Error(`TextEncoder: maxLength must be an integer from 2 to ${limit} (the model's position table), got ${maxLength}`);
    }
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new Error(`TextEncoder: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${model.config.vocabSize}`);
    }
    this.maxLength = maxLength;
    this.pooling = options.pooling;
  }

  /** Token ids with [CLS] ... [SEP], truncated; memoised because epochs revisit the same texts. */
  tokenize(texts: readonly string[]): number[][] {
    const missing = [...new Set(texts.filter((t) => !this.ids.has(t)))];
    if (missing.length > 0) {
      const encoded = this.tokenizer.encodeBatch(missing, { maxLength: this.maxLength, truncation: true, padding: false }).encodings;
      missing.forEach((text, i) => this.ids.set(text, [...encoded[i].ids]));
    }
    return texts.map((t) => this.ids.get(t)!);
  }

  /** texts [N] -> pooled [N, H]; padded to the longest of these N. */
  embed(texts: readonly string[]): Tensor {
    const sequences = this.tokenize(texts);
    const N = sequences.length;
    const L = Math.max(...sequences.map((s) => s.length));
    const ids = new Int32Array(N * L).fill(this.model.config.padTokenId);
    const mask = new Int32Array(N * L);
    sequences.forEach((s, b) => {
      ids.set(s, b * L);
      mask.fill(1, b * L, b * L + s.length);
    });
    const attentionMask = tensor(mask, [N, L]);
    const { lastHiddenState } = this.model.base.forward({ inputIds: tensor(ids, [N, L]), attentionMask });
    return pool(lastHiddenState, tensor(Float32Array.from(mask), [N, L]), this.pooling);
  }
}

/** Tokenizer files of a model folder, copied into every checkpoint. */
export function tokenizerFilesIn(dir: string): string[] {
  return ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'].map((f) => join(dir, f)).filter((f) => existsSync(f));
}

/**
 * A retro or HF BERT/RoBERTa folder (masked-LM, or a bare encoder without the `bert.` prefix or
 * head): the body must be complete; a missing MLM head is left at its init (it is not trained).
 */
export function loadEncoderModel(dir: string, options: { seed?: number } = {}): MaskedLMModel {
  const model = AutoModelForMaskedLM.fromPretrained(dir, { allowMissing: true, seed: options.seed ?? 0 });
  const bodyMissing = (model.loadReport?.missing ?? []).filter((name) => name.startsWith(`${model.prefix}.`));
  if (bodyMissing.length > 0) {
    throw new Error(`loadEncoderModel: ${dir} lacks encoder tensor${bodyMissing.length > 1 ? 's' : ''} ${bodyMissing.slice(0, 5).join(', ')}${bodyMissing.length > 5 ? ` and ${bodyMissing.length - 5} more` : ''}`);
  }
  return model;
}

/** The tokenizer of a model folder (or of `tokenizerPath` when given). */
export async function loadTokenizerFrom(dir: string): Promise<AnyTokenizer> {
  return AutoTokenizer.fromPretrained(dir);
}
