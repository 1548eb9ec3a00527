/**
 * The encoder itself, on whichever thread runs it: model + tokenizer from a ModelFolder, texts
 * [N] -> row-major vectors [N, D]. Imports no Node built-in (browsers and workers run it).
 */
import { encoderFromMemory, type BertModel, type RobertaModel } from '@retro/bert';
import { scope } from '@retro/tensor';
import { AutoTokenizer, type AnyTokenizer } from '@retro/data/tokenizers';
import type { ModelFolder } from './files.js';

export type Pooling = 'cls' | 'mean';

/** What the folder says about the encoder; every field is known before the first encode. */
export interface EncoderInfo {
  source: string;
  modelType: 'bert' | 'roberta';
  /** D: the width of each vector. */
  dimension: number;
  /** Longest input in tokens (special tokens included): the position table's size. */
  maxLength: number;
  /** Default pooling: from 1_Pooling/config.json (sentence-transformers), else best.json / trainer_state.json (retro finetune), else CLS (RetroMAE). */
  pooling: Pooling;
  poolingFrom: string;
  /** Default normalization: true when modules.json lists a Normalize module. */
  normalize: boolean;
}

/** Settings of one batch, already resolved against the defaults. */
export interface BatchSettings {
  pooling: Pooling;
  normalize: boolean;
  maxLength: number;
}

function parse(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object') throw new Error(`${file}: expected a JSON object or array`);
  return value as Record<string, unknown>;
}

/** The pooling a folder was made for, and which file says so. */
export function folderPooling(folder: Pick<ModelFolder, 'source' | 'extras'>): { pooling: Pooling; from: string; normalize: boolean } {
  const modules = folder.extras['modules.json'];
  const normalize = modules !== undefined && JSON.stringify(parse(modules, `${folder.source}/modules.json`)).includes('sentence_transformers.models.Normalize');
  const st = folder.extras['1_Pooling/config.json'];
  if (st !== undefined) {
    const file = `${folder.source}/1_Pooling/config.json`;
    const config = parse(st, file);
    if (config.pooling_mode_cls_token === true) return { pooling: 'cls', from: file, normalize };
    if (config.pooling_mode_mean_tokens === true) return { pooling: 'mean', from: file, normalize };
    const modes = Object.keys(config).filter((key) => key.startsWith('pooling_mode_') && config[key] === true);
    throw new Error(`${file}: pooling ${modes.join(', ') || '(none set)'} is not supported; expected pooling_mode_cls_token or pooling_mode_mean_tokens`);
  }
  // retro finetune records its pooling in best/best.json and in every checkpoint's trainer_state.json.
  for (const [name, read] of [
    ['best.json', (json: Record<string, unknown>) => json.pooling],
    ['trainer_state.json', (json: Record<string, unknown>) => (json.config as Record<string, unknown> | undefined)?.pooling],
  ] as const) {
    const text = folder.extras[name];
    if (text === undefined) continue;
    const pooling = read(parse(text, `${folder.source}/${name}`));
    if (pooling === 'cls' || pooling === 'mean') return { pooling, from: `${folder.source}/${name}`, normalize };
  }
  return { pooling: 'cls', from: 'default (RetroMAE trains the [CLS] vector)', normalize };
}

export class EncoderCore {
  private constructor(
    private readonly model: BertModel | RobertaModel,
    private readonly tokenizer: AnyTokenizer,
    readonly info: EncoderInfo,
  ) {}

  static fromFolder(folder: ModelFolder): EncoderCore {
    const model = encoderFromMemory({ config: folder.config, weights: folder.weights, source: folder.source });
    const tokenizer = AutoTokenizer.fromFiles(folder.tokenizer, folder.source, 'SentenceEncoder');
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new Error(`${folder.source}: the tokenizer has ${tokenizer.vocabSize} ids but config.json's vocab_size is ${model.config.vocabSize}; they do not belong together`);
    }
    const { pooling, from, normalize } = folderPooling(folder);
    const info: EncoderInfo = {
      source: folder.source,
      modelType: model.config.modelType,
      dimension: model.config.hiddenSize,
      maxLength: model.config.maxSequenceLength,
      pooling,
      poolingFrom: from,
      normalize,
    };
    return new EncoderCore(model, tokenizer, info);
  }

  /** texts [N] -> vectors [N, D] row-major (texts longer than maxLength tokens are truncated). */
  encodeBatch(texts: readonly string[], settings: BatchSettings): Float32Array {
    if (texts.length === 0) return new Float32Array(0);
    // Host values out, the embeddings tensor freed (device backends).
    return scope(() => this.model.encode([...texts], { tokenizer: this.tokenizer, batchSize: texts.length, ...settings }).toFloat32Array());
  }
}
