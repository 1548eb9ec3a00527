import { AutoModel, type BertModel } from '@retro/bert';
import type { AnyTokenizer } from '@retro/data';
import { loadTokenizer } from './tokenizer.js';

export interface EncoderSession {
  model: BertModel;
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
 * A model folder ready to embed texts: a `retro pretrain` checkpoint, an exported encoder or any
 * HF encoder-only folder (bge, text2vec, sentence-transformers); only the encoder is loaded (MLM
 * and RetroMAE heads are left unused). The tokenizer must be in the same folder.
 */
export async function openEncoder(dir: string, options: EncoderSessionOptions): Promise<EncoderSession> {
  const model = AutoModel.fromPretrained(dir);
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
