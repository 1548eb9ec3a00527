import { AutoModel, type BertModel } from '@retro/bert';
import { scope } from '@retro/tensor';
import { readFolderPooling } from '@retro/sentence';
import type { AnyTokenizer } from '@retro/data';
import { loadTokenizer } from './tokenizer.js';

export interface EncoderSession {
  model: BertModel;
  tokenizer: AnyTokenizer;
  /** The pooling used: the one asked for, else the folder's. */
  pooling: 'cls' | 'mean';
  /** texts -> [texts.length, H] row-major. */
  embed(texts: readonly string[]): { vectors: Float32Array; dim: number };
}

export interface EncoderSessionOptions {
  batchSize: number;
  maxLength?: number;
  /** Default: what the folder says (readFolderPooling: 1_Pooling/config.json, best.json, trainer_state.json), else cls. */
  pooling?: 'cls' | 'mean';
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
  const pooling = options.pooling ?? readFolderPooling(dir).pooling;
  return {
    model,
    tokenizer,
    pooling,
    embed(texts) {
      // Host values out, the embeddings tensor freed (device backends).
      return scope(() => {
        const embeddings = model.encode([...texts], {
          tokenizer,
          batchSize: options.batchSize,
          maxLength: options.maxLength,
          pooling,
          normalize: options.normalize,
        });
        return { vectors: embeddings.toFloat32Array(), dim: embeddings.shape[1] };
      });
    },
  };
}
