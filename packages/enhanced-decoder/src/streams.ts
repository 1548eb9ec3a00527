import { add, arange, concat, narrow, type Tensor } from '@retro/tensor';
import type { MaskedLMModel } from '@retro/bert';

/**
 * The query stream of the enhanced decoder:
 * H1 = position_embeddings(0..L-1) + h_cls (no LayerNorm), as in the paper and official code.
 * hCls [B, 1, H] -> [B, L, H].
 */
export function queryStreamH1(encoder: MaskedLMModel, hCls: Tensor, length: number): Tensor {
  const positions = encoder.embeddings.positions(arange(length)); // [L, H]
  return add(positions, hCls);
}

/**
 * The key/value stream: H2 = [h_cls ; embeddings(original ids)[1..L-1]], where embeddings is the
 * encoder's full embedding module (word + position + token type + LayerNorm) on the UNMASKED ids.
 * hCls [B, 1, H], decoderInputIds int32 [B, L] -> [B, L, H]. Also returns the embedding output.
 */
export function keyValueStreamH2(
  encoder: MaskedLMModel,
  hCls: Tensor,
  decoderInputIds: Tensor,
  positionIds?: Tensor,
): { h2: Tensor; embeddingOutput: Tensor } {
  const embeddingOutput = encoder.embeddings.forward({ inputIds: decoderInputIds, positionIds });
  const length = decoderInputIds.shape[1];
  const h2 = concat([hCls, narrow(embeddingOutput, 1, 1, length - 1)], 1);
  return { h2, embeddingOutput };
}
