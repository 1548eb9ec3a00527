/**
 * BertEmbeddings / RobertaEmbeddings: LayerNorm(word[ids] + token_type[tt] + position[pos]), dropout.
 * Parameter names: `word_embeddings.weight`, `position_embeddings.weight`,
 * `token_type_embeddings.weight`, `LayerNorm.weight|bias` (under `bert.embeddings` / `roberta.embeddings`).
 */
import { Module, Embedding, LayerNorm, Dropout, Tensor, add, zeros } from '@retro/tensor';
import type { BuildContext } from './context.js';
import { checkRange, checkShape, robertaPositionIds, sequentialPositionIds, toIdsTensor, type IdsInput } from './inputs.js';

export interface EmbeddingsInput {
  /** int32 [B, L] token ids. */
  inputIds: IdsInput;
  /** int32 [B, L]; default BERT 0..L-1, RoBERTa padding_idx + 1 + cumsum over non-pad tokens. */
  positionIds?: IdsInput;
  /** int32 [B, L]; default all 0. */
  tokenTypeIds?: IdsInput;
}

export class BertEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly layerNorm: LayerNorm;
  readonly dropout: Dropout;
  /** RoBERTa derives position ids from pad positions and gives the pad position row no gradient. */
  readonly isRoberta: boolean;

  constructor(private readonly context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    const init = { std: config.initializerRange, generator: initGenerator };
    this.isRoberta = config.modelType === 'roberta';
    this.wordEmbeddings = this.child('word_embeddings', new Embedding(config.vocabSize, config.hiddenSize, config.padTokenId, init));
    // HF RobertaEmbeddings builds position_embeddings with padding_idx = pad_token_id; BERT has none.
    this.positionEmbeddings = this.child(
      'position_embeddings',
      new Embedding(config.maxPositionEmbeddings, config.hiddenSize, this.isRoberta ? config.padTokenId : null, init),
    );
    this.tokenTypeEmbeddings = this.child('token_type_embeddings', new Embedding(config.typeVocabSize, config.hiddenSize, null, init));
    this.layerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(config.hiddenDropoutProb, context.dropoutGenerator));
  }

  /** The position ids HF uses when none are given. ids int32 [B, L] -> int32 [B, L]. */
  defaultPositionIds(ids: Tensor): Tensor {
    return this.isRoberta ? robertaPositionIds(ids, this.context.config.padTokenId) : sequentialPositionIds(ids.shape[0], ids.shape[1]);
  }

  /** Position rows alone (no LayerNorm): ids int32 [...S] -> [...S, H], padding_idx semantics kept. */
  positions(positionIds: IdsInput): Tensor {
    const ids = toIdsTensor(positionIds, 'positionIds');
    checkRange(ids, 0, this.context.config.maxPositionEmbeddings, 'positionIds', 'max_position_embeddings');
    return this.positionEmbeddings.forward(ids);
  }

  /** [B, L] ids -> [B, L, H] (after LayerNorm and dropout). */
  forward(input: EmbeddingsInput): Tensor {
    const { config } = this.context;
    const ids = toIdsTensor(input.inputIds, 'inputIds');
    if (ids.rank !== 2) throw new Error(`BertEmbeddings: inputIds must be [B, L], got [${ids.shape.join(',')}]`);
    checkRange(ids, 0, config.vocabSize, 'inputIds', 'vocab_size');
    const positionIds = input.positionIds === undefined ? this.defaultPositionIds(ids) : toIdsTensor(input.positionIds, 'positionIds');
    checkShape(positionIds.shape, ids.shape, 'positionIds');
    checkRange(positionIds, 0, config.maxPositionEmbeddings, 'positionIds', 'max_position_embeddings');
    let tokenTypes: Tensor;
    if (input.tokenTypeIds === undefined) {
      tokenTypes = zeros(ids.shape, { dtype: 'int32' });
    } else {
      tokenTypes = toIdsTensor(input.tokenTypeIds, 'tokenTypeIds');
      checkShape(tokenTypes.shape, ids.shape, 'tokenTypeIds');
      checkRange(tokenTypes, 0, config.typeVocabSize, 'tokenTypeIds', 'type_vocab_size');
    }
    // Summed in HF's order: (word + token_type) + position.
    const summed = add(add(this.wordEmbeddings.forward(ids), this.tokenTypeEmbeddings.forward(tokenTypes)), this.positionEmbeddings.forward(positionIds));
    return this.dropout.forward(this.layerNorm.forward(summed));
  }
}
