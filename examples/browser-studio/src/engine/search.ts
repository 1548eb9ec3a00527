/**
 * Semantic search over a document list with the current model: RetroMAE's sentence embedding
 * (the encoder's [CLS] state) or mean pooling, L2-normalised, for documents and query; cosine top-k.
 */
import { cosineTopK } from '@retro/eval';
import type { AnyTokenizer } from '@retro/data';
import type { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import type { SearchHit } from '../protocol.js';

export type Pooling = 'cls' | 'mean';

/**
 * Embeddings [N, H], L2-normalised. 'cls' is RetroMAE's sentence embedding; 'mean' (over real
 * tokens) is offered because a briefly trained model's [CLS] state barely varies between inputs.
 */
export function embed(model: RetroMAEForPretraining, tokenizer: AnyTokenizer, texts: readonly string[], maxLength: number, pooling: Pooling): { data: Float32Array; rows: number; dim: number } {
  const config = model.encoder.config;
  const positions = config.modelType === 'roberta' ? config.maxPositionEmbeddings - config.padTokenId - 1 : config.maxPositionEmbeddings;
  const vectors = model.encoder.encode(texts, { tokenizer, normalize: true, pooling, maxLength: Math.min(maxLength, positions), batchSize: 16 });
  return { data: vectors.toFloat32Array(), rows: texts.length, dim: config.hiddenSize };
}

export class SearchIndex {
  constructor(
    readonly documents: readonly string[],
    readonly vectors: { data: Float32Array; rows: number; dim: number },
    /** The model version the vectors were computed with. */
    readonly version: number,
    readonly pooling: Pooling,
  ) {}

  search(query: { data: Float32Array; rows: number; dim: number }, k: number): SearchHit[] {
    const [result] = cosineTopK(query, this.vectors, Math.min(k, this.documents.length), { normalized: true });
    return Array.from(result.indices, (index, rank) => ({ index, text: this.documents[index], score: result.scores[rank] }));
  }
}
