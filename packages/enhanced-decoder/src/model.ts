import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Module,
  Generator,
  Tensor,
  deriveSeed,
  additiveMask,
  narrow,
  reshape,
  formatShape,
} from '@retro/tensor';
import {
  AutoModelForMaskedLM,
  BertForMaskedLM,
  RobertaForMaskedLM,
  BertConfig,
  RobertaConfig,
  maskedLMLoss,
  toIdsTensor,
  type MaskedLMModel,
  type IdsInput,
  type MaskInput,
  type BertConfigInit,
  type LoadedTensor,
} from '@retro/bert';
import { EnhancedDecoderLayer, type EnhancedDecoderConfig } from './c-head.js';
import { keyValueStreamH2, queryStreamH1 } from './streams.js';

/** One RetroMAE batch; every [B, L] field is int32 ids (nested arrays, typed arrays or tensors). */
export interface RetroMAEBatch {
  /** [B, L] encoder input after whole-word MLM masking. */
  encoderInputIds: IdsInput;
  /** [B, L] 1 = real token. */
  encoderAttentionMask: MaskInput;
  /** [B, L] original id at masked positions, -100 elsewhere. */
  encoderLabels: IdsInput;
  /** [B, L] the ORIGINAL (unmasked) ids. */
  decoderInputIds?: IdsInput;
  /** [B, L, L] the mask M: 1 = query row i may attend key column j. */
  decoderAttentionMask?: MaskInput;
  /** [B, L] original ids with -100 at position 0, the last real token and padding. */
  decoderLabels?: IdsInput;
  /** Optional position ids; default: the encoder's rule (BERT 0..L-1, RoBERTa padding-aware). */
  encoderPositionIds?: IdsInput;
  decoderPositionIds?: IdsInput;
}

export interface RetroMAEOutput {
  /** [] encoder MLM loss + decoder loss (just the encoder loss in MLM-only mode). */
  loss: Tensor;
  encoderLoss: Tensor;
  decoderLoss?: Tensor;
  /** [B, H] sentence embedding (the encoder's last hidden state at position 0). */
  cls: Tensor;
  /** Intermediate streams, for inspection and tests. */
  h1?: Tensor;
  h2?: Tensor;
  /** [B, L, H] decoder attention output A and hidden D. */
  decoderAttentionOutput?: Tensor;
  decoderHidden?: Tensor;
  /** [B, L, V] full logits, only with `outputLogits` (the losses never need them). */
  encoderLogits?: Tensor;
  decoderLogits?: Tensor;
  /** [B, L, H] encoder last hidden state. */
  lastHiddenState: Tensor;
}

export interface RetroMAEOptions {
  /** Train the encoder with MLM alone (the paper's baseline); the decoder is kept but unused. */
  mlmOnly?: boolean;
  /** Seed of the c_head initialisation when the checkpoint has none. */
  seed?: number;
}

export interface ForwardOptions {
  /** Also compute full [B, L, V] logits for both heads (tests, inspection). */
  outputLogits?: boolean;
}

const C_HEAD = 'c_head.';
/** Official RetroMAE nests c_head like a BertLayer; these are the flat retro names they map to. */
const OFFICIAL_C_HEAD_NAMES: Record<string, string> = {
  'attention.self.query': 'query',
  'attention.self.key': 'key',
  'attention.self.value': 'value',
  'attention.output.dense': 'dense',
  'attention.output.LayerNorm': 'attention_layer_norm',
  'intermediate.dense': 'intermediate',
  'output.dense': 'output_dense',
  'output.LayerNorm': 'output_layer_norm',
};

function decoderConfigOf(config: BertConfig): EnhancedDecoderConfig {
  return {
    hiddenSize: config.hiddenSize,
    numAttentionHeads: config.numAttentionHeads,
    intermediateSize: config.intermediateSize,
    layerNormEps: config.layerNormEps,
    hiddenDropoutProb: config.hiddenDropoutProb,
    attentionProbsDropoutProb: config.attentionProbsDropoutProb,
    initializerRange: config.initializerRange,
  };
}

/**
 * RetroMAE pretraining model: a BERT or RoBERTa masked-LM encoder plus the enhanced decoder
 * `c_head`, sharing the encoder's embeddings and (tied) MLM head.
 */
export class RetroMAEForPretraining extends Module {
  readonly encoder: MaskedLMModel;
  readonly c_head: EnhancedDecoderLayer;
  mlmOnly: boolean;

  constructor(encoder: MaskedLMModel, options: RetroMAEOptions = {}) {
    super();
    this.encoder = this.child('encoder', encoder);
    this.mlmOnly = options.mlmOnly ?? false;
    this.c_head = this.child(
      'c_head',
      new EnhancedDecoderLayer(decoderConfigOf(encoder.config), {
        init: new Generator(deriveSeed(options.seed ?? 0, 'c_head.init')),
        dropout: () => this.encoder.generator,
      }),
    );
  }

  /** A freshly initialised model (HF-style init) for `model_type` bert or roberta. */
  static fromConfig(config: BertConfig | (Partial<BertConfigInit> & { modelType?: 'bert' | 'roberta' }), options: RetroMAEOptions = {}): RetroMAEForPretraining {
    const seed = options.seed ?? 0;
    const modelType = config instanceof BertConfig ? config.modelType : (config.modelType ?? 'bert');
    const encoder =
      modelType === 'roberta'
        ? new RobertaForMaskedLM(config instanceof BertConfig ? (config as RobertaConfig) : new RobertaConfig(config), { seed })
        : new BertForMaskedLM(config instanceof BertConfig ? config : new BertConfig(config), { seed });
    return new RetroMAEForPretraining(encoder, options);
  }

  /**
   * Loads an HF masked-LM checkpoint (BERT or RoBERTa, by `model_type`) and, when present,
   * `c_head.*` (flat retro names or the official nested ones); otherwise c_head is initialised.
   */
  static fromPretrained(dir: string, options: RetroMAEOptions = {}): RetroMAEForPretraining {
    if (!existsSync(join(dir, 'config.json'))) throw new Error(`RetroMAEForPretraining.fromPretrained: ${join(dir, 'config.json')} does not exist`);
    const encoder = AutoModelForMaskedLM.fromPretrained(dir, { seed: options.seed });
    const model = new RetroMAEForPretraining(encoder, options);
    model.loadDecoder(encoder.unusedTensors(), dir);
    // Eval mode like every fromPretrained (HF convention); the trainer calls .train() itself.
    return model.eval();
  }

  /**
   * Loads `c_head.*` (flat retro names or the official nested ones) from a loaded encoder's
   * unused tensors; none present leaves the initialisation. `source` names the checkpoint in errors.
   */
  loadDecoder(unused: ReadonlyMap<string, LoadedTensor>, source: string): void {
    const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const [name, value] of unused) {
      if (!name.startsWith(C_HEAD)) continue;
      let local = name.slice(C_HEAD.length);
      for (const [official, flat] of Object.entries(OFFICIAL_C_HEAD_NAMES)) {
        if (local.startsWith(`${official}.`)) local = flat + local.slice(official.length);
      }
      tensors.set(local, value);
    }
    if (tensors.size === 0) return;
    this.c_head.loadStateDict(tensors, { strict: true, source: `${source}/model.safetensors (c_head.*)` });
  }

  /** Every parameter under its checkpoint name: the encoder's HF names, then `c_head.*`. */
  override namedParameters(): Array<[string, Tensor]> {
    return [...this.encoder.namedParameters(), ...this.c_head.namedParameters(C_HEAD)];
  }

  /** Writes the encoder as an HF masked-LM checkpoint with `c_head.*` in the same safetensors. */
  savePretrained(dir: string): void {
    this.encoder.savePretrained(dir, { extraTensors: new Map(this.c_head.namedParameters(C_HEAD)) });
  }

  /**
   * Both losses of RetroMAE. Shapes: every id field [B, L]; decoderAttentionMask [B, L, L].
   * In MLM-only mode the decoder fields may be omitted.
   */
  forward(batch: RetroMAEBatch, options: ForwardOptions = {}): RetroMAEOutput {
    const config = this.encoder.config;
    const inputIds = toIdsTensor(batch.encoderInputIds, 'encoderInputIds');
    if (inputIds.rank !== 2) throw new Error(`RetroMAEForPretraining: encoderInputIds must be [B, L], got ${formatShape(inputIds.shape)}`);
    const [B, L] = inputIds.shape;
    const encoderLabels = toIdsTensor(batch.encoderLabels, 'encoderLabels');
    this.checkShape(encoderLabels, [B, L], 'encoderLabels');
    const { lastHiddenState } = this.encoder.base.forward({
      inputIds,
      attentionMask: batch.encoderAttentionMask,
      positionIds: batch.encoderPositionIds,
    });
    const hidden = reshape(lastHiddenState, [B * L, config.hiddenSize]);
    const encoderLoss = maskedLMLoss(this.encoder.head, hidden, encoderLabels);
    const hCls = narrow(lastHiddenState, 1, 0, 1); // [B, 1, H]
    const output: RetroMAEOutput = { loss: encoderLoss, encoderLoss, cls: reshape(hCls, [B, config.hiddenSize]), lastHiddenState };
    if (options.outputLogits) output.encoderLogits = this.encoder.head.forward(lastHiddenState);
    if (this.mlmOnly) return output;

    if (batch.decoderInputIds === undefined || batch.decoderAttentionMask === undefined || batch.decoderLabels === undefined) {
      throw new Error('RetroMAEForPretraining: decoderInputIds, decoderAttentionMask and decoderLabels are required unless mlmOnly');
    }
    const decoderInputIds = toIdsTensor(batch.decoderInputIds, 'decoderInputIds');
    this.checkShape(decoderInputIds, [B, L], 'decoderInputIds');
    const decoderLabels = toIdsTensor(batch.decoderLabels, 'decoderLabels');
    this.checkShape(decoderLabels, [B, L], 'decoderLabels');
    const visible = toIdsTensor(batch.decoderAttentionMask, 'decoderAttentionMask');
    this.checkShape(visible, [B, L, L], 'decoderAttentionMask');
    const decoderPositionIds = batch.decoderPositionIds === undefined ? undefined : toIdsTensor(batch.decoderPositionIds, 'decoderPositionIds');

    const h1 = queryStreamH1(this.encoder, hCls, L);
    const { h2 } = keyValueStreamH2(this.encoder, hCls, decoderInputIds, decoderPositionIds);
    const maskM = additiveMask(visible.dataSync(), [B, L, L]);
    const { attentionOutput, hidden: decoderHidden } = this.c_head.forward(h1, h2, maskM);
    const decoderLoss = maskedLMLoss(this.encoder.head, reshape(decoderHidden, [B * L, config.hiddenSize]), decoderLabels);
    output.decoderLoss = decoderLoss;
    output.loss = encoderLoss.add(decoderLoss);
    Object.assign(output, { h1, h2, decoderAttentionOutput: attentionOutput, decoderHidden });
    if (options.outputLogits) output.decoderLogits = this.encoder.head.forward(decoderHidden);
    return output;
  }

  private checkShape(t: Tensor, expected: number[], field: string): void {
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new Error(`RetroMAEForPretraining: ${field} has shape ${formatShape(t.shape)}, expected ${formatShape(expected)}`);
    }
  }
}
