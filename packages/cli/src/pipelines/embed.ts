import { AutoModelForMaskedLM, type MaskedLMModel } from '@retro/bert';
import type { AnyTokenizer } from '@retro/data';
import { loadTokenizer } from './tokenizer.js';

export interface EncoderSession {
  model: MaskedLMModel;
  tokenizer: AnyTokenizer;
  /** texts -> [texts.length, H] row-major. */
  embed(texts: readonly string[]): { vectors: Float32Array; dim: number };
}

export interface EncoderSessionOptions {
  batchSize: number;
  maxLength?: number;
  pooling: 'cls' | 'mean';
  normalize: boolean;
}

/**
 * A checkpoint folder (config.json + model.safetensors + tokenizer files, as `retro pretrain`
 * writes them) ready to embed texts. The tokenizer must be in the same folder.
 */
export async function openEncoder(dir: string, options: EncoderSessionOptions): Promise<EncoderSession> {
  const model = AutoModelForMaskedLM.fromPretrained(dir);
  model.eval();
  const { tokenizer } = await loadTokenizer(dir);
  return {
    model,
    tokenizer,
    embed(texts) {
      const embeddings = model.encode([...texts], {
        tokenizer,
        batchSize: options.batchSize,
        maxLength: options.maxLength,
        pooling: options.pooling,
        normalize: options.normalize,
      });
      return { vectors: embeddings.toFloat32Array(), dim: embeddings.shape[1] };
    },
  };
}
