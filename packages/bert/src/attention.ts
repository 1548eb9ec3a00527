/**
 * Multi-head scaled dot-product attention as HF's eager BertSelfAttention computes it, plus the
 * `attention.self` / `attention.output` modules whose attribute paths are the checkpoint names.
 */
import { Module, Linear, LayerNorm, Dropout, Tensor, add, multiHeadAttention } from '@retro/tensor';
import type { BuildContext } from './context.js';

/** `attention.self`: query, key, value projections and the attention itself. */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  readonly numHeads: number;

  constructor(context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    const init = { std: config.initializerRange, generator: initGenerator };
    this.numHeads = config.numAttentionHeads;
    this.query = this.child('query', new Linear(config.hiddenSize, config.hiddenSize, init));
    this.key = this.child('key', new Linear(config.hiddenSize, config.hiddenSize, init));
    this.value = this.child('value', new Linear(config.hiddenSize, config.hiddenSize, init));
    this.dropout = this.child('dropout', new Dropout(config.attentionProbsDropoutProb, context.dropoutGenerator));
  }

  /**
   * hidden [B, Lq, H] -> context [B, Lq, H]. Keys and values come from `keyValue` [B, Lk, H]
   * when given (cross-stream attention, as RetroMAE's decoder uses), else from `hidden`.
   */
  forward(hidden: Tensor, additiveMask: Tensor | null, keyValue: Tensor = hidden): Tensor {
    return multiHeadAttention(this.query.forward(hidden), this.key.forward(keyValue), this.value.forward(keyValue), {
      heads: this.numHeads,
      mask: additiveMask ?? undefined,
      probabilityDropout: this.dropout,
    });
  }
}

/**
 * `attention.output` and `output` (they differ only in input width): LayerNorm(dropout(dense(x)) + residual).
 */
export class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(context: BuildContext, inFeatures: number) {
    super();
    const { config, initGenerator } = context;
    this.dense = this.child('dense', new Linear(inFeatures, config.hiddenSize, { std: config.initializerRange, generator: initGenerator }));
    this.layerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(config.hiddenDropoutProb, context.dropoutGenerator));
  }

  /** x [B, L, in], residual [B, L, H] -> [B, L, H]. */
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.layerNorm.forward(add(this.dropout.forward(this.dense.forward(x)), residual));
  }
}

/** `attention`: self-attention then its residual output. */
export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;

  constructor(context: BuildContext) {
    super();
    this.self = this.child('self', new BertSelfAttention(context));
    this.output = this.child('output', new BertResidualOutput(context, context.config.hiddenSize));
  }

  /** hidden [B, L, H], additiveMask [B, 1, 1|L, L] -> [B, L, H]. */
  forward(hidden: Tensor, additiveMask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(hidden, additiveMask), hidden);
  }
}
