/**
 * HF model folders held in memory (files a browser user dropped, fetch results, zip entries):
 * the loading and saving of checkpoint.ts without a file system. One `model.safetensors`
 * (sharded checkpoints need the folder reader).
 */
import { configFromJson } from './config.js';
import { loadPretrainedTensors, serializePretrained, type LoadOptions, type SaveOptions } from './checkpoint.js';
import { BertForMaskedLM, BertModel, RobertaForMaskedLM, RobertaModel, type MaskedLMModel } from './model.js';
import type { BaseModelOptions, ModelOptions } from './types.js';
import { parseSafetensors } from './safetensors.js';

/** The two files of an HF masked-LM folder, as bytes or text. */
export interface InMemoryCheckpoint {
  /** config.json: its text, its UTF-8 bytes, or the parsed object. */
  config: string | Uint8Array | object;
  /** model.safetensors bytes. */
  weights: Uint8Array;
  /** Names the folder in errors (e.g. the dropped folder's name). Default '<memory>'. */
  source?: string;
}

function parseConfigJson(config: InMemoryCheckpoint['config'], file: string): unknown {
  if (typeof config !== 'string' && !(config instanceof Uint8Array)) return config;
  const text = typeof config === 'string' ? config : new TextDecoder('utf-8', { fatal: false }).decode(config);
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * `AutoModelForMaskedLM.fromPretrained` for a folder in memory: BertForMaskedLM or
 * RobertaForMaskedLM by config.json's `model_type`, weights loaded with the same name mapping
 * and checks, in eval mode; tensors that are no parameter (e.g. RetroMAE's `c_head.*`) stay in `unusedTensors()`.
 */
export function maskedLMFromMemory(checkpoint: InMemoryCheckpoint, options: LoadOptions & ModelOptions = {}): BertForMaskedLM | RobertaForMaskedLM {
  const source = checkpoint.source ?? '<memory>';
  const configFile = `${source}/config.json`;
  const weightsFile = `${source}/model.safetensors`;
  const config = configFromJson(parseConfigJson(checkpoint.config, configFile), configFile);
  const model = config.modelType === 'roberta' ? new RobertaForMaskedLM(config, options) : new BertForMaskedLM(config, options);
  const parsed = parseSafetensors(checkpoint.weights, weightsFile);
  const tensors = new Map([...parsed.tensors].map(([name, raw]) => [name, { ...raw, file: weightsFile }]));
  model.loadReport = loadPretrainedTensors(model, tensors, { ...options, files: [weightsFile], where: weightsFile });
  // As fromPretrained (and HF): a loaded model starts in eval mode; trainers switch training on.
  return model.eval();
}

/**
 * `AutoModel.fromPretrained` for a folder in memory: the encoder alone (BertModel or RobertaModel
 * by `model_type`) from an encoder-only folder (`retro export`, bge, sentence-transformers) or the
 * body of a masked-LM / RetroMAE checkpoint, heads left unused; the pooler exists exactly when the
 * weights hold it, as in fromPretrained. Eval mode.
 */
export function encoderFromMemory(checkpoint: InMemoryCheckpoint, options: LoadOptions & BaseModelOptions = {}): BertModel | RobertaModel {
  const source = checkpoint.source ?? '<memory>';
  const configFile = `${source}/config.json`;
  const weightsFile = `${source}/model.safetensors`;
  const config = configFromJson(parseConfigJson(checkpoint.config, configFile), configFile);
  const parsed = parseSafetensors(checkpoint.weights, weightsFile);
  const addPoolingLayer = options.addPoolingLayer ?? [...parsed.tensors.keys()].some((name) => /^((bert|roberta)\.)?pooler\.dense\.weight$/.test(name));
  const modelOptions = { ...options, addPoolingLayer };
  const model = config.modelType === 'roberta' ? new RobertaModel(config, modelOptions) : new BertModel(config, modelOptions);
  const tensors = new Map([...parsed.tensors].map(([name, raw]) => [name, { ...raw, file: weightsFile }]));
  model.loadReport = loadPretrainedTensors(model, tensors, { ...options, files: [weightsFile], where: weightsFile });
  return model.eval();
}

/** What `savePretrained(dir)` writes, as in-memory files: config.json text and model.safetensors bytes. */
export function pretrainedToMemory(model: MaskedLMModel, options: SaveOptions = {}): { 'config.json': string; 'model.safetensors': Uint8Array } {
  return {
    'config.json': model.config.toJsonString(),
    'model.safetensors': serializePretrained(model, options),
  };
}
