/**
 * Masked-LM heads: head(h) = LN(act(dense(h))) @ word_embeddings^T + bias.
 * BERT names: `cls.predictions.transform.{dense, LayerNorm}`, `cls.predictions.bias`;
 * RoBERTa names: `lm_head.{dense, layer_norm, bias}`. With tie_word_embeddings (the default)
 * the decoder weight IS the word-embedding tensor, so it is not a parameter of the head and
 * gradients of both uses add up in that one tensor.
 */
import { Module, Linear, LayerNorm, Tensor, matmul, zeros, randn, gelu } from '@retro/tensor';
import type { BuildContext } from './context.js';
import { activation } from './encoder.js';

/** Anything mapping hidden states [..., H] to vocabulary logits [..., V]. */
export interface MaskedLMHead {
  forward(hidden: Tensor): Tensor;
  /** The output projection [V, H] (the word embeddings when tied). */
  readonly decoderWeight: Tensor;
  /** The output bias [V]. */
  readonly bias: Tensor;
}

/** An untied decoder weight, registered as `decoder.weight`. */
class UntiedDecoder extends Module {
  readonly weight: Tensor;

  constructor(context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    this.weight = this.parameter('weight', randn([config.vocabSize, config.hiddenSize], { std: config.initializerRange, generator: initGenerator }));
  }
}

/** `transform`: LN(act(dense(h))), [..., H] -> [..., H]. */
export class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  private readonly act: (x: Tensor) => Tensor;

  constructor(context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, { std: config.initializerRange, generator: initGenerator }));
    this.act = activation(config.hiddenAct);
    this.layerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
  }

  forward(hidden: Tensor): Tensor {
    return this.layerNorm.forward(this.act(this.dense.forward(hidden)));
  }
}

/** `cls.predictions`. */
export class BertLMPredictionHead extends Module implements MaskedLMHead {
  readonly bias: Tensor;
  readonly transform: BertPredictionHeadTransform;
  readonly decoderWeight: Tensor;

  constructor(context: BuildContext, wordEmbeddings: Tensor) {
    super();
    // Registered first, as in torch, where the head's own `bias` precedes its submodules.
    this.bias = this.parameter('bias', zeros([context.config.vocabSize]));
    this.transform = this.child('transform', new BertPredictionHeadTransform(context));
    this.decoderWeight = context.config.tieWordEmbeddings ? wordEmbeddings : this.child('decoder', new UntiedDecoder(context)).weight;
  }

  /** hidden [..., H] -> logits [..., V]. */
  forward(hidden: Tensor): Tensor {
    return matmul(this.transform.forward(hidden), this.decoderWeight, { transB: true, bias: this.bias });
  }
}

/** `cls` (BertOnlyMLMHead). */
export class BertOnlyMLMHead extends Module {
  readonly predictions: BertLMPredictionHead;

  constructor(context: BuildContext, wordEmbeddings: Tensor) {
    super();
    this.predictions = this.child('predictions', new BertLMPredictionHead(context, wordEmbeddings));
  }

  forward(hidden: Tensor): Tensor {
    return this.predictions.forward(hidden);
  }
}

/** `lm_head` (RobertaLMHead): LN(gelu(dense(h))) @ W^T + bias; always exact gelu, as in HF. */
export class RobertaLMHead extends Module implements MaskedLMHead {
  readonly bias: Tensor;
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  readonly decoderWeight: Tensor;

  constructor(context: BuildContext, wordEmbeddings: Tensor) {
    super();
    const { config, initGenerator } = context;
    this.bias = this.parameter('bias', zeros([config.vocabSize]));
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, { std: config.initializerRange, generator: initGenerator }));
    this.layerNorm = this.child('layer_norm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.decoderWeight = config.tieWordEmbeddings ? wordEmbeddings : this.child('decoder', new UntiedDecoder(context)).weight;
  }

  /** hidden [..., H] -> logits [..., V]. */
  forward(hidden: Tensor): Tensor {
    return matmul(this.layerNorm.forward(gelu(this.dense.forward(hidden))), this.decoderWeight, { transB: true, bias: this.bias });
  }
}
