/**
 * BertModel / RobertaModel (the encoder; HF's pooler when standalone, none inside HF's
 * *ForMaskedLM), BertForMaskedLM and RobertaForMaskedLM.
 * Module attribute paths are the HF checkpoint names (`bert.encoder.layer.0.attention.self.query.weight`).
 */
import { Module, Generator, Linear, Tensor, deriveSeed, narrow, reshape, tanh } from '@retro/tensor';
import { BertConfig, RobertaConfig, type BertConfigInit } from './config.js';
import type { BuildContext } from './context.js';
import { BertEmbeddings } from './embeddings.js';
import { BertEncoder } from './encoder.js';
import { BertOnlyMLMHead, RobertaLMHead, type MaskedLMHead } from './heads.js';
import { checkShape, extendedAttentionMask, toIdsTensor } from './inputs.js';
import { checkpointFiles, loadPretrained, savePretrained, type CheckpointModel, type LoadOptions, type LoadReport, type LoadedTensor, type SaveOptions } from './checkpoint.js';
import { readSafetensorsHeader } from './safetensors.js';
import { maskedLMLoss } from './mlm-loss.js';
import { encode, type EncodeInput, type EncodeOptions } from './encode.js';
import type { BaseModelOptions, EncoderOutput, ForwardInput, MaskedLMOutput, ModelOptions } from './types.js';

/** HF BertPooler: pooler_output = tanh(dense(h[:, 0])), [B, L, H] -> [B, H]. */
export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, { std: config.initializerRange, generator: initGenerator }));
  }

  forward(hidden: Tensor): Tensor {
    const [batch, , width] = hidden.shape;
    return tanh(this.dense.forward(reshape(narrow(hidden, 1, 0, 1), [batch!, width!])));
  }
}

function isBuildContext(value: unknown): value is BuildContext {
  return typeof value === 'object' && value !== null && 'initGenerator' in value && 'dropoutGenerator' in value;
}

/**
 * The encoder: embeddings + layers (+ HF's pooler when built standalone). Inside a *ForMaskedLM it
 * is the `bert.*` / `roberta.*` body without pooler; on its own it is HF's BertModel, whose
 * checkpoints (bge, text2vec, sentence-transformers models) name tensors without the prefix.
 */
export class BertModel extends Module implements CheckpointModel {
  readonly config: BertConfig;
  readonly context: BuildContext;
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;
  /** Dropout generator of a standalone model (a body inside a *ForMaskedLM uses its owner's). */
  generator: Generator;
  /** What the last `fromPretrained`/`loadPretrained` found (null for a freshly built model). */
  loadReport: LoadReport | null = null;
  /** Parameter names carry no `bert.`/`roberta.` prefix: this is the whole model, not a body. */
  readonly isBaseModel: boolean;

  /**
   * `new BertModel(config, options)` builds a standalone encoder (with pooler unless
   * addPoolingLayer is false); `new BertModel(context)` is the body of a masked-LM model.
   */
  constructor(configOrContext: BuildContext | BertConfig | Partial<BertConfigInit> = {}, options: BaseModelOptions = {}) {
    super();
    if (isBuildContext(configOrContext)) {
      this.context = configOrContext;
      this.generator = configOrContext.dropoutGenerator();
      this.isBaseModel = false;
    } else {
      const seed = options.seed ?? 0;
      this.generator = new Generator(options.dropoutSeed ?? seed + 1);
      const config = configOrContext instanceof BertConfig ? configOrContext : new (this.defaultConfigClass())(configOrContext);
      this.context = { config, initGenerator: new Generator(seed), dropoutGenerator: () => this.generator };
      this.isBaseModel = true;
    }
    this.config = this.context.config;
    this.embeddings = this.child('embeddings', new BertEmbeddings(this.context));
    this.encoder = this.child('encoder', new BertEncoder(this.context));
    const pooling = this.isBaseModel && (options.addPoolingLayer ?? true);
    this.pooler = pooling ? this.child('pooler', new BertPooler(this.context)) : null;
  }

  protected defaultConfigClass(): new (init?: Partial<BertConfigInit>) => BertConfig {
    return BertConfig;
  }

  /** The HF checkpoint prefix of this body: "bert" or "roberta". */
  get prefix(): string {
    return this.config.modelType === 'roberta' ? 'roberta' : 'bert';
  }

  /** For encode(): the model whose forward gives the hidden states (itself). */
  get base(): BertModel {
    return this;
  }

  /**
   * ids [B, L] -> lastHiddenState [B, L, H], poolerOutput [B, H] when the model has a pooler,
   * hiddenStates (n + 1 x [B, L, H]) when asked.
   */
  forward(input: Omit<ForwardInput, 'labels'>): EncoderOutput {
    const ids = toIdsTensor(input.inputIds, 'inputIds');
    if (ids.rank !== 2) throw new Error(`${this.config.constructor.name}: inputIds must be [B, L], got [${ids.shape.join(',')}]`);
    let additiveMask: Tensor | null = null;
    if (input.attentionMask !== undefined) {
      const mask = toIdsTensor(input.attentionMask, 'attentionMask');
      const [batch, length] = ids.shape;
      checkShape(mask.shape, mask.rank === 3 ? [batch, length, length] : [batch, length], 'attentionMask');
      additiveMask = extendedAttentionMask(mask);
    }
    const embedded = this.embeddings.forward({ inputIds: ids, positionIds: input.positionIds, tokenTypeIds: input.tokenTypeIds });
    const layers = this.encoder.forward(embedded, additiveMask);
    const lastHiddenState = layers.length > 0 ? layers[layers.length - 1] : embedded;
    const output: EncoderOutput = { lastHiddenState };
    if (this.pooler) output.poolerOutput = this.pooler.forward(lastHiddenState);
    if (input.outputHiddenStates) output.hiddenStates = [embedded, ...layers];
    return output;
  }

  /** Sentence embeddings [N, H] (CLS or mean pooled, optionally L2-normalised), in eval mode, no grad. */
  encode(inputs: EncodeInput, options: EncodeOptions = {}): Tensor {
    return encode(this, inputs, options);
  }

  /** Loads weights from an HF folder into this model (shapes must match its config). */
  loadPretrained(dir: string, options: LoadOptions = {}): LoadReport {
    this.loadReport = loadPretrained(this, dir, options);
    return this.loadReport;
  }

  /** Writes `<dir>/config.json` and `<dir>/model.safetensors` with HF BertModel names (no prefix). */
  savePretrained(dir: string, options: SaveOptions = {}): void {
    savePretrained(this, dir, options);
  }

  /**
   * An encoder-only HF folder: a bare BertModel checkpoint (unprefixed names, pooler optional)
   * or the `bert.*` body of any BERT checkpoint (heads such as `cls.*` are left unused, as HF
   * does). Comes back in eval mode (dropout off), as HF's from_pretrained; .train() to train.
   */
  static fromPretrained(dir: string, options: LoadOptions & BaseModelOptions = {}): BertModel {
    return fromPretrainedBase(BertConfig, (config, opts) => new BertModel(config, opts), dir, options);
  }
}

/** HF RobertaModel: the RoBERTa encoder on its own (`embeddings.*`, `encoder.*`, `pooler.*`). */
export class RobertaModel extends BertModel {
  constructor(config: RobertaConfig | Partial<BertConfigInit> = {}, options: BaseModelOptions = {}) {
    super(config instanceof BertConfig ? requireType(config, 'roberta', 'RobertaModel') : new RobertaConfig(config), options);
  }

  protected override defaultConfigClass(): new (init?: Partial<BertConfigInit>) => BertConfig {
    return RobertaConfig;
  }

  static override fromPretrained(dir: string, options: LoadOptions & BaseModelOptions = {}): RobertaModel {
    return fromPretrainedBase(RobertaConfig, (config, opts) => new RobertaModel(config, opts), dir, options);
  }
}

function fromPretrainedBase<M extends BertModel, C extends BertConfig>(
  configClass: { fromFile(path: string): C },
  build: (config: C, options: BaseModelOptions) => M,
  dir: string,
  options: LoadOptions & BaseModelOptions,
): M {
  const config = configClass.fromFile(dir);
  // HF builds the pooler by default and warns when the weights lack it; here it exists exactly
  // when the checkpoint has it, so a folder without one loads and poolerOutput is never random.
  const addPoolingLayer = options.addPoolingLayer ?? hasPoolerTensors(dir);
  const model = build(config, { ...options, addPoolingLayer });
  model.loadPretrained(dir, options);
  return model.eval();
}

function hasPoolerTensors(dir: string): boolean {
  const { index, files } = checkpointFiles(dir);
  const names = index ? [...index.keys()] : files.flatMap((file) => [...readSafetensorsHeader(file)]);
  return names.some((name) => /^((bert|roberta)\.)?pooler\.dense\.weight$/.test(name));
}

type ConfigClass<C extends BertConfig> = { new (init?: Partial<BertConfigInit>, source?: string): C; MODEL_TYPE: string; fromJson(json: unknown, source?: string): C };

/** What BertForMaskedLM and RobertaForMaskedLM share; subclasses only name their children. */
export abstract class MaskedLMModel<C extends BertConfig = BertConfig> extends Module {
  readonly config: C;
  /** Every dropout in the model draws from this generator (replace it to resume a saved state). */
  generator: Generator;
  /** What the last `fromPretrained`/`loadPretrained` found (null for a freshly built model). */
  loadReport: LoadReport | null = null;
  protected readonly context: BuildContext;

  protected constructor(config: C, options: ModelOptions) {
    super();
    this.config = config;
    const seed = options.seed ?? 0;
    this.generator = new Generator(options.dropoutSeed ?? deriveSeed(seed, 'dropout'));
    this.context = { config, initGenerator: new Generator(deriveSeed(seed, 'init')), dropoutGenerator: () => this.generator };
  }

  /** The encoder body (`bert` / `roberta`). */
  abstract get base(): BertModel;
  /** The MLM head, callable on any hidden states [..., H] -> [..., V]. */
  abstract get head(): MaskedLMHead;
  /** The HF checkpoint prefix of the body: "bert" or "roberta". */
  abstract get prefix(): string;

  /** word + position + token-type + LayerNorm (callable with explicit position ids). */
  get embeddings(): BertEmbeddings {
    return this.base.embeddings;
  }

  /** The word-embedding matrix [V, H] (also the tied decoder weight). */
  get wordEmbeddings(): Tensor {
    return this.base.embeddings.wordEmbeddings.weight;
  }

  /** The position-embedding matrix [max_position_embeddings, H]. */
  get positionEmbeddings(): Tensor {
    return this.base.embeddings.positionEmbeddings.weight;
  }

  /**
   * ids [B, L] -> logits [B, L, V], lastHiddenState [B, L, H], loss [] when labels are given,
   * hiddenStates (n + 1 x [B, L, H]) when outputHiddenStates.
   */
  forward(input: ForwardInput): MaskedLMOutput {
    const encoded = this.base.forward(input);
    const logits = this.head.forward(encoded.lastHiddenState);
    const output: MaskedLMOutput = { ...encoded, logits };
    if (input.labels !== undefined) {
      const labels = toIdsTensor(input.labels, 'labels');
      checkShape(labels.shape, logits.shape.slice(0, -1), 'labels');
      // The one MLM loss (also RetroMAE's): the head runs again on the labelled rows only, as
      // `logits` above covers every position for the caller.
      output.loss = maskedLMLoss(this.head, reshape(encoded.lastHiddenState, [-1, this.config.hiddenSize]), labels);
    }
    return output;
  }

  /** Sentence embeddings [N, H] (CLS or mean pooled, optionally L2-normalised), in eval mode, no grad. */
  encode(inputs: EncodeInput, options: EncodeOptions = {}): Tensor {
    return encode(this, inputs, options);
  }

  /**
   * Writes `<dir>/config.json` and `<dir>/model.safetensors` as HF `save_pretrained` does
   * (tied decoder weight omitted). `extraTensors` (e.g. RetroMAE's `c_head.*`) go in the same file.
   */
  savePretrained(dir: string, options: SaveOptions = {}): void {
    savePretrained(this, dir, options);
  }

  /** Tensors of the last loaded checkpoint that are not parameters of this model (e.g. `c_head.*`). */
  unusedTensors(): Map<string, LoadedTensor> {
    return new Map(this.loadReport?.unused ?? []);
  }

  /** Loads weights from an HF folder into this model (shapes must match its config). */
  loadPretrained(dir: string, options: LoadOptions = {}): LoadReport {
    this.loadReport = loadPretrained(this, dir, options);
    return this.loadReport;
  }

  protected static fromPretrainedWith<M extends MaskedLMModel<C>, C extends BertConfig>(
    configClass: ConfigClass<C>,
    build: (config: C, options: ModelOptions) => M,
    dir: string,
    options: LoadOptions & ModelOptions,
  ): M {
    const config = (configClass as unknown as { fromFile(path: string): C }).fromFile(dir);
    const model = build(config, options);
    model.loadPretrained(dir, options);
    // HF convention: from_pretrained gives an eval-mode model (dropout off); training code
    // switches it on explicitly with model.train().
    return model.eval();
  }
}

/** HF BertForMaskedLM: `bert.*` + `cls.predictions.*`. */
export class BertForMaskedLM extends MaskedLMModel<BertConfig> {
  readonly bert: BertModel;
  readonly cls: BertOnlyMLMHead;

  constructor(config: BertConfig | Partial<BertConfigInit> = {}, options: ModelOptions = {}) {
    super(config instanceof BertConfig ? requireType(config, 'bert', 'BertForMaskedLM') : new BertConfig(config), options);
    this.bert = this.child('bert', new BertModel(this.context));
    this.cls = this.child('cls', new BertOnlyMLMHead(this.context, this.bert.embeddings.wordEmbeddings.weight));
  }

  get base(): BertModel {
    return this.bert;
  }

  get head(): MaskedLMHead {
    return this.cls.predictions;
  }

  get prefix(): string {
    return 'bert';
  }

  /**
   * Builds from `<dir>/config.json` and loads `<dir>/model.safetensors` (or its shards). The model
   * comes back in eval mode (dropout off), as HF's from_pretrained; call .train() to train it.
   */
  static fromPretrained(dir: string, options: LoadOptions & ModelOptions = {}): BertForMaskedLM {
    return MaskedLMModel.fromPretrainedWith(BertConfig, (config, opts) => new BertForMaskedLM(config, opts), dir, options);
  }
}

/** HF RobertaForMaskedLM: `roberta.*` + `lm_head.*`. */
export class RobertaForMaskedLM extends MaskedLMModel<RobertaConfig> {
  readonly roberta: BertModel;
  readonly lmHead: RobertaLMHead;

  constructor(config: RobertaConfig | Partial<BertConfigInit> = {}, options: ModelOptions = {}) {
    super(config instanceof BertConfig ? requireType(config, 'roberta', 'RobertaForMaskedLM') : new RobertaConfig(config), options);
    this.roberta = this.child('roberta', new BertModel(this.context));
    this.lmHead = this.child('lm_head', new RobertaLMHead(this.context, this.roberta.embeddings.wordEmbeddings.weight));
  }

  get base(): BertModel {
    return this.roberta;
  }

  get head(): MaskedLMHead {
    return this.lmHead;
  }

  get prefix(): string {
    return 'roberta';
  }

  static fromPretrained(dir: string, options: LoadOptions & ModelOptions = {}): RobertaForMaskedLM {
    return MaskedLMModel.fromPretrainedWith(RobertaConfig, (config, opts) => new RobertaForMaskedLM(config, opts), dir, options);
  }
}

function requireType<C extends BertConfig>(config: BertConfig, modelType: string, model: string): C {
  if (config.modelType !== modelType) {
    throw new Error(`${model}: config has model_type "${config.modelType}", expected "${modelType}"`);
  }
  return config as C;
}
