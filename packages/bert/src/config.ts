/**
 * BERT / RoBERTa configuration as HuggingFace `config.json` has it. Field names on disk are HF's
 * snake_case; in code they are camelCase. Missing fields take HF's class defaults (as
 * `BertConfig.from_pretrained` does); present fields are validated, and fields this package does
 * not use are kept verbatim so a load/save round trip loses nothing.
 */
import { nodeFs, nodePath, writeFileAtomic } from '@retro/common';

export type ModelType = 'bert' | 'roberta';
export type HiddenAct = 'gelu' | 'relu';

/** Every HF field this package interprets. */
export interface BertConfigInit {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  initializerRange: number;
  layerNormEps: number;
  padTokenId: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
  positionEmbeddingType: 'absolute';
  tieWordEmbeddings: boolean;
  architectures: string[];
}

type FieldKind = 'positiveInt' | 'nonNegativeInt' | 'probability' | 'positiveNumber' | 'tokenId' | 'optionalTokenId' | 'boolean' | 'hiddenAct' | 'positionType' | 'stringList';

interface FieldSpec {
  json: string;
  key: keyof BertConfigInit;
  kind: FieldKind;
}

const FIELDS: readonly FieldSpec[] = [
  { json: 'vocab_size', key: 'vocabSize', kind: 'positiveInt' },
  { json: 'hidden_size', key: 'hiddenSize', kind: 'positiveInt' },
  { json: 'num_hidden_layers', key: 'numHiddenLayers', kind: 'positiveInt' },
  { json: 'num_attention_heads', key: 'numAttentionHeads', kind: 'positiveInt' },
  { json: 'intermediate_size', key: 'intermediateSize', kind: 'positiveInt' },
  { json: 'hidden_act', key: 'hiddenAct', kind: 'hiddenAct' },
  { json: 'hidden_dropout_prob', key: 'hiddenDropoutProb', kind: 'probability' },
  { json: 'attention_probs_dropout_prob', key: 'attentionProbsDropoutProb', kind: 'probability' },
  { json: 'max_position_embeddings', key: 'maxPositionEmbeddings', kind: 'positiveInt' },
  { json: 'type_vocab_size', key: 'typeVocabSize', kind: 'positiveInt' },
  { json: 'initializer_range', key: 'initializerRange', kind: 'positiveNumber' },
  { json: 'layer_norm_eps', key: 'layerNormEps', kind: 'positiveNumber' },
  { json: 'pad_token_id', key: 'padTokenId', kind: 'tokenId' },
  { json: 'bos_token_id', key: 'bosTokenId', kind: 'optionalTokenId' },
  { json: 'eos_token_id', key: 'eosTokenId', kind: 'optionalTokenId' },
  { json: 'position_embedding_type', key: 'positionEmbeddingType', kind: 'positionType' },
  { json: 'tie_word_embeddings', key: 'tieWordEmbeddings', kind: 'boolean' },
  { json: 'architectures', key: 'architectures', kind: 'stringList' },
];

/** HF BertConfig() defaults (bert-base-uncased sizes). */
const BERT_DEFAULTS: BertConfigInit = {
  vocabSize: 30522,
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  hiddenAct: 'gelu',
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  initializerRange: 0.02,
  layerNormEps: 1e-12,
  padTokenId: 0,
  bosTokenId: null,
  eosTokenId: null,
  positionEmbeddingType: 'absolute',
  tieWordEmbeddings: true,
  architectures: ['BertForMaskedLM'],
};

/** HF RobertaConfig() defaults: BERT's with RoBERTa's vocabulary and special ids. */
const ROBERTA_DEFAULTS: BertConfigInit = {
  ...BERT_DEFAULTS,
  vocabSize: 50265,
  padTokenId: 1,
  bosTokenId: 0,
  eosTokenId: 2,
  architectures: ['RobertaForMaskedLM'],
};

/** Keys HF writes that carry no meaning for these models; dropped from `extra` on read. */
const IGNORED_ON_READ = new Set(['model_type', 'transformers_version', 'torch_dtype', 'dtype', '_name_or_path']);

/** Flags that would change the architecture in ways this package does not implement. */
const UNSUPPORTED_TRUE_FLAGS = ['is_decoder', 'add_cross_attention'];

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return `${JSON.stringify(value)} (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`;
}

function checkField(source: string, spec: FieldSpec, value: unknown, vocabSize: number): unknown {
  const bad = (expected: string): never => {
    throw new Error(`${source}: field '${spec.json}' must be ${expected}, found ${describe(value)}`);
  };
  switch (spec.kind) {
    case 'positiveInt':
      if (!Number.isSafeInteger(value) || (value as number) < 1) bad('a positive integer');
      return value;
    case 'nonNegativeInt':
      if (!Number.isSafeInteger(value) || (value as number) < 0) bad('a non-negative integer');
      return value;
    case 'probability':
      if (typeof value !== 'number' || !(value >= 0 && value < 1)) bad('a number in [0, 1)');
      return value;
    case 'positiveNumber':
      if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) bad('a positive finite number');
      return value;
    case 'tokenId':
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) >= vocabSize) bad(`an integer in [0, vocab_size=${vocabSize})`);
      return value;
    case 'optionalTokenId':
      if (value === null) return null;
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) >= vocabSize) bad(`null or an integer in [0, vocab_size=${vocabSize})`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') bad('true or false');
      return value;
    case 'hiddenAct':
      if (value !== 'gelu' && value !== 'relu') bad(`one of "gelu" (exact erf), "relu" (the activations implemented here)`);
      return value;
    case 'positionType':
      if (value !== 'absolute') bad('"absolute" (relative position embeddings are not implemented)');
      return value;
    case 'stringList':
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) bad('a list of strings');
      return [...(value as string[])];
  }
}

/** Configuration of a BERT masked-LM (`model_type` "bert"). */
export class BertConfig implements BertConfigInit {
  readonly modelType: ModelType = 'bert';
  vocabSize!: number;
  hiddenSize!: number;
  numHiddenLayers!: number;
  numAttentionHeads!: number;
  intermediateSize!: number;
  hiddenAct!: HiddenAct;
  hiddenDropoutProb!: number;
  attentionProbsDropoutProb!: number;
  maxPositionEmbeddings!: number;
  typeVocabSize!: number;
  initializerRange!: number;
  layerNormEps!: number;
  padTokenId!: number;
  bosTokenId!: number | null;
  eosTokenId!: number | null;
  positionEmbeddingType!: 'absolute';
  tieWordEmbeddings!: boolean;
  architectures!: string[];
  /** config.json fields not interpreted here, written back unchanged. */
  extra: Record<string, unknown> = {};

  protected static defaults(): BertConfigInit {
    return BERT_DEFAULTS;
  }

  /** HF defaults overridden by `init`, validated (`source` labels errors). */
  constructor(init: Partial<BertConfigInit> = {}, source = 'BertConfig') {
    const defaults = (this.constructor as typeof BertConfig).defaults();
    this.assign({ ...defaults, ...init }, source);
  }

  private assign(values: BertConfigInit, source: string): void {
    const vocabSize = values.vocabSize;
    for (const spec of FIELDS) {
      (this as unknown as Record<string, unknown>)[spec.key] = checkField(source, spec, values[spec.key], Number.isSafeInteger(vocabSize) ? vocabSize : Infinity);
    }
    if (this.hiddenSize % this.numAttentionHeads !== 0) {
      throw new Error(
        `${source}: field 'hidden_size' must be a multiple of num_attention_heads=${this.numAttentionHeads}, found ${this.hiddenSize}`,
      );
    }
  }

  /** Per-head width dh = hidden_size / num_attention_heads. */
  get headDim(): number {
    return this.hiddenSize / this.numAttentionHeads;
  }

  /**
   * The longest input (special tokens included) the position table holds: what a tokenizer saved
   * beside this model states as `model_max_length`. BERT: max_position_embeddings.
   */
  get maxSequenceLength(): number {
    return this.maxPositionEmbeddings;
  }

  /**
   * Builds a config from parsed config.json contents. `source` (the file) labels every error:
   * `<file>: field 'hidden_size' must be a positive integer, found "32" (string)`.
   */
  static fromJson<C extends BertConfig>(this: new (init?: Partial<BertConfigInit>, source?: string) => C, json: unknown, source = 'config.json'): C {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new Error(`${source}: expected a JSON object, found ${describe(json)}`);
    }
    const record = json as Record<string, unknown>;
    const expectedType = (this as unknown as { MODEL_TYPE: ModelType }).MODEL_TYPE;
    if (record.model_type !== undefined && record.model_type !== expectedType) {
      throw new Error(`${source}: field 'model_type' must be "${expectedType}" for ${this.name}, found ${describe(record.model_type)}`);
    }
    for (const flag of UNSUPPORTED_TRUE_FLAGS) {
      if (record[flag] === true) throw new Error(`${source}: field '${flag}' must be false (decoder/cross-attention BERT is not implemented), found true`);
    }
    const init: Partial<BertConfigInit> = {};
    const extra: Record<string, unknown> = {};
    const known = new Map(FIELDS.map((spec) => [spec.json, spec]));
    for (const [key, value] of Object.entries(record)) {
      const spec = known.get(key);
      if (spec) (init as Record<string, unknown>)[spec.key] = value;
      else if (!IGNORED_ON_READ.has(key)) extra[key] = value;
    }
    const config = new this(init, source);
    config.extra = extra;
    return config;
  }

  /** Reads `<dir>/config.json` (or a path to a .json file). */
  static fromFile<C extends BertConfig>(this: (new (init?: Partial<BertConfigInit>, source?: string) => C) & { fromJson: typeof BertConfig.fromJson }, path: string): C {
    const file = path.endsWith('.json') ? path : nodePath.join(path, 'config.json');
    if (!nodeFs.existsSync(file)) throw new Error(`${file}: config file not found`);
    let json: unknown;
    try {
      json = JSON.parse(nodeFs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    return (this.fromJson as (json: unknown, source: string) => C).call(this, json, file);
  }

  static readonly MODEL_TYPE: ModelType = 'bert';

  /** The HF config.json object (snake_case, keys sorted as HF's `to_json_string` writes them). */
  toJson(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.extra, model_type: this.modelType, torch_dtype: 'float32' };
    for (const spec of FIELDS) {
      const value = this[spec.key];
      // HF BertConfig has no bos/eos unless given; keep config.json as HF writes it.
      if (value === null && (spec.key === 'bosTokenId' || spec.key === 'eosTokenId')) continue;
      out[spec.json] = value;
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Writes `<dir>/config.json` atomically. */
  save(dir: string): void {
    writeFileAtomic(nodePath.join(dir, 'config.json'), this.toJsonString());
  }

  /** The text of config.json as `save` writes it. */
  toJsonString(): string {
    return `${JSON.stringify(this.toJson(), null, 2)}\n`;
  }

  /** A copy with some fields changed (validated again). */
  with(changes: Partial<BertConfigInit>): this {
    const Ctor = this.constructor as new (init: Partial<BertConfigInit>, source?: string) => this;
    const copy = new Ctor({ ...this.init(), ...changes }, Ctor.name);
    copy.extra = { ...this.extra };
    return copy;
  }

  /** The interpreted fields as a plain object. */
  init(): BertConfigInit {
    return Object.fromEntries(FIELDS.map((spec) => [spec.key, this[spec.key]])) as unknown as BertConfigInit;
  }
}

/** Configuration of a RoBERTa masked-LM (`model_type` "roberta"): pad 1, bos 0, eos 2 by default. */
export class RobertaConfig extends BertConfig {
  override readonly modelType: ModelType = 'roberta';
  static override readonly MODEL_TYPE: ModelType = 'roberta';

  protected static override defaults(): BertConfigInit {
    return ROBERTA_DEFAULTS;
  }

  /** RoBERTa's positions start at pad_token_id + 1 (HF: 514 positions hold 512 tokens). */
  override get maxSequenceLength(): number {
    return this.maxPositionEmbeddings - this.padTokenId - 1;
  }
}

/** Reads `model_type` from `<dir>/config.json` and builds the matching config class. */
export function loadConfig(dir: string): BertConfig | RobertaConfig {
  const file = dir.endsWith('.json') ? dir : nodePath.join(dir, 'config.json');
  if (!nodeFs.existsSync(file)) throw new Error(`${file}: config file not found`);
  let json: unknown;
  try {
    json = JSON.parse(nodeFs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  return configFromJson(json, file);
}

/** Parsed config.json contents -> the config class its `model_type` names; `source` labels errors. */
export function configFromJson(json: unknown, source = 'config.json'): BertConfig | RobertaConfig {
  const modelType = (json as Record<string, unknown> | null)?.model_type;
  if (modelType === 'bert') return BertConfig.fromJson(json, source);
  if (modelType === 'roberta') return RobertaConfig.fromJson(json, source);
  throw new Error(`${source}: field 'model_type' must be one of "bert", "roberta", found ${describe(modelType)}`);
}
