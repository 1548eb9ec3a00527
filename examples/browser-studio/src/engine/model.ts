/**
 * A model folder from the user's files (config.json, model.safetensors, a tokenizer), or a fresh
 * tiny RetroMAE whose WordPiece vocabulary is built from the corpus. Errors name the file and
 * what was expected.
 */
import { AutoTokenizer, BertTokenizer, buildWordPieceVocab, tokenizerFor, type AnyTokenizer, type CorpusDocument } from '@retro/data';
import { RetroMAEForPretraining, retroMAEFromMemory } from '@retro/enhanced-decoder';
import type { FreshModelSettings, InputFile, ModelSummary } from '../protocol.js';

export interface LoadedModel {
  model: RetroMAEForPretraining;
  tokenizer: AnyTokenizer;
  /** Tokenizer files to put in the downloaded checkpoint, name -> text. */
  tokenizerFiles: Record<string, string>;
  summary: ModelSummary;
  notes: string[];
}

const TOKENIZER_NAMES = new Set(['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'special_tokens_map.json']);
const NOT_SAFETENSORS = new Set(['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack', 'model.safetensors.index.json']);

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function folderOf(files: readonly InputFile[]): string {
  const first = files.find((f) => f.name.includes('/'));
  return first ? first.name.slice(0, first.name.lastIndexOf('/')) : 'dropped files';
}

function text(file: InputFile): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
  } catch {
    throw new Error(`${file.name}: not UTF-8 text`);
  }
}

export function summarize(model: RetroMAEForPretraining, tokenizer: AnyTokenizer, source: string, hasDecoder: boolean): ModelSummary {
  const config = model.encoder.config;
  let parameters = 0;
  for (const [, tensor] of model.namedParameters()) parameters += tensor.size;
  return {
    source,
    modelType: config.modelType,
    parameters,
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numHiddenLayers,
    numHeads: config.numAttentionHeads,
    hasDecoder,
    tokenizer: `${tokenizer.constructor.name}, ${tokenizer.vocabSize} tokens`,
  };
}

/** Loads an HF / retro checkpoint folder given as files (names may carry the folder path). */
export function loadModelFiles(files: readonly InputFile[], seed: number): LoadedModel {
  const source = folderOf(files);
  const byName = new Map<string, InputFile>();
  const notes: string[] = [];
  for (const file of files) {
    const name = baseName(file.name);
    if (NOT_SAFETENSORS.has(name)) {
      throw new Error(`${file.name}: only a single model.safetensors is read here; save the model with safe_serialization=True (transformers) or retro's savePretrained`);
    }
    if (name === 'config.json' || name === 'model.safetensors' || TOKENIZER_NAMES.has(name)) byName.set(name, file);
    else notes.push(`ignored ${file.name}`);
  }
  const missing = ['config.json', 'model.safetensors'].filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new Error(`${source}: missing ${missing.join(' and ')} (found ${[...byName.keys()].join(', ') || 'no model file'}); a model folder needs config.json, model.safetensors and vocab.txt or tokenizer.json`);
  }
  const tokenizerFiles: Record<string, string> = {};
  for (const [name, file] of byName) if (TOKENIZER_NAMES.has(name)) tokenizerFiles[name] = text(file);
  if (!tokenizerFiles['vocab.txt'] && !tokenizerFiles['tokenizer.json'] && !(tokenizerFiles['vocab.json'] && tokenizerFiles['merges.txt'])) {
    throw new Error(`${source}: no tokenizer; add vocab.txt or tokenizer.json (or vocab.json + merges.txt) from the model folder`);
  }
  const tokenizer = AutoTokenizer.fromFiles(tokenizerFiles, source);
  const model = retroMAEFromMemory({ config: byName.get('config.json')!.bytes, weights: byName.get('model.safetensors')!.bytes, source }, { seed });
  if (model.encoder.config.vocabSize < tokenizer.vocabSize) {
    throw new Error(`${source}/config.json: vocab_size ${model.encoder.config.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} tokens`);
  }
  const hasDecoder = [...model.encoder.unusedTensors().keys()].some((name) => name.startsWith('c_head.'));
  if (!hasDecoder) notes.push('no c_head.* in model.safetensors: the RetroMAE decoder starts freshly initialised');
  return { model, tokenizer, tokenizerFiles, summary: summarize(model, tokenizer, source, hasDecoder), notes };
}

/** A fresh BERT-style RetroMAE with a WordPiece vocabulary built from the corpus documents. */
export async function freshModel(documents: readonly CorpusDocument[], settings: FreshModelSettings): Promise<LoadedModel> {
  if (documents.length === 0) throw new Error('a fresh model builds its vocabulary from the corpus: load a corpus first');
  if (settings.hiddenSize % settings.numHeads !== 0) {
    throw new Error(`hidden size ${settings.hiddenSize} must be a multiple of the number of heads ${settings.numHeads}`);
  }
  const vocab = await buildWordPieceVocab(
    documents.map((d) => d.text),
    { minCharFrequency: 2 },
  );
  const tokenizer: BertTokenizer = tokenizerFor(vocab);
  const model = RetroMAEForPretraining.fromConfig(
    {
      modelType: 'bert',
      vocabSize: tokenizer.vocabSize,
      hiddenSize: settings.hiddenSize,
      numHiddenLayers: settings.numLayers,
      numAttentionHeads: settings.numHeads,
      intermediateSize: settings.intermediateSize,
      maxPositionEmbeddings: Math.max(settings.maxLength, 128),
      padTokenId: tokenizer.padTokenId,
    },
    { seed: settings.seed },
  );
  const source = `fresh ${settings.numLayers}-layer model`;
  return { model, tokenizer, tokenizerFiles: tokenizer.hfFiles(), summary: summarize(model, tokenizer, source, true), notes: [`vocabulary of ${tokenizer.vocabSize} tokens built from ${documents.length} documents`] };
}
