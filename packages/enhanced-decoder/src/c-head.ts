import { Module, Linear, LayerNorm, Dropout, Generator, multiHeadAttention, add, gelu, type Tensor } from '@retro/tensor';

export interface EnhancedDecoderConfig {
  hiddenSize: number;
  numAttentionHeads: number;
  intermediateSize: number;
  layerNormEps: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  initializerRange: number;
}

/**
 * The enhanced decoder of RetroMAE: ONE transformer layer whose queries come from H1 and whose
 * keys and values come from H2, under the per-row mask M. Parameter names follow the retro
 * checkpoint layout `c_head.{query,key,value,dense,attention_layer_norm,intermediate,
 * output_dense,output_layer_norm}.{weight,bias}`.
 */
export class EnhancedDecoderLayer extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dense: Linear;
  readonly attention_layer_norm: LayerNorm;
  readonly intermediate: Linear;
  readonly output_dense: Linear;
  readonly output_layer_norm: LayerNorm;
  private readonly attentionDropout: Dropout;
  private readonly hiddenDropout: Dropout;

  constructor(readonly config: EnhancedDecoderConfig, generators: { init: Generator; dropout: () => Generator }) {
    super();
    const { hiddenSize: H, intermediateSize: I, initializerRange: std } = config;
    const init = { std, generator: generators.init };
    this.query = this.child('query', new Linear(H, H, init));
    this.key = this.child('key', new Linear(H, H, init));
    this.value = this.child('value', new Linear(H, H, init));
    this.dense = this.child('dense', new Linear(H, H, init));
    this.attention_layer_norm = this.child('attention_layer_norm', new LayerNorm(H, config.layerNormEps));
    this.intermediate = this.child('intermediate', new Linear(H, I, init));
    this.output_dense = this.child('output_dense', new Linear(I, H, init));
    this.output_layer_norm = this.child('output_layer_norm', new LayerNorm(H, config.layerNormEps));
    this.attentionDropout = this.child('attention_dropout', new Dropout(config.attentionProbsDropoutProb, generators.dropout));
    this.hiddenDropout = this.child('hidden_dropout', new Dropout(config.hiddenDropoutProb, generators.dropout));
  }

  /**
   * h1 [B, L, H] (queries), h2 [B, L, H] (keys/values), maskM: additive [B, 1, L, L] from M.
   * Returns { attentionOutput A [B, L, H], hidden D [B, L, H] }.
   */
  forward(h1: Tensor, h2: Tensor, maskM: Tensor): { attentionOutput: Tensor; hidden: Tensor } {
    const context = multiHeadAttention(this.query.forward(h1), this.key.forward(h2), this.value.forward(h2), {
      heads: this.config.numAttentionHeads,
      mask: maskM,
      probabilityDropout: this.attentionDropout,
    });
    const attentionOutput = this.attention_layer_norm.forward(add(this.hiddenDropout.forward(this.dense.forward(context)), h1));
    const feedForward = this.output_dense.forward(gelu(this.intermediate.forward(attentionOutput)));
    const hidden = this.output_layer_norm.forward(add(this.hiddenDropout.forward(feedForward), attentionOutput));
    return { attentionOutput, hidden };
  }
}
