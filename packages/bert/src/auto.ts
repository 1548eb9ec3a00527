/**
 * AutoModel / AutoModelForMaskedLM: pick the BERT or RoBERTa class from config.json's `model_type`.
 */
import { nodePath } from '@retro/common';
import { loadConfig } from './config.js';
import type { LoadOptions } from './checkpoint.js';
import { BertForMaskedLM, BertModel, RobertaForMaskedLM, RobertaModel } from './model.js';
import type { BaseModelOptions, ModelOptions } from './types.js';

export const AutoModelForMaskedLM = {
  /**
   * Loads `<dir>` (config.json + model.safetensors). model_type "bert" -> BertForMaskedLM,
   * "roberta" -> RobertaForMaskedLM; anything else throws naming the file and the value found.
   * The model comes back in eval mode (HF convention); call .train() to train it.
   */
  fromPretrained(dir: string, options: LoadOptions & ModelOptions = {}): BertForMaskedLM | RobertaForMaskedLM {
    const config = loadConfig(nodePath.join(dir, 'config.json'));
    return config.modelType === 'roberta' ? RobertaForMaskedLM.fromPretrained(dir, options) : BertForMaskedLM.fromPretrained(dir, options);
  },
};

export const AutoModel = {
  /**
   * The encoder alone (HF AutoModel): "bert" -> BertModel, "roberta" -> RobertaModel. Reads
   * encoder-only folders (bge, text2vec, sentence-transformers: unprefixed names, pooler or not)
   * and the body of masked-LM or RetroMAE checkpoints (their heads are left unused). Eval mode.
   */
  fromPretrained(dir: string, options: LoadOptions & BaseModelOptions = {}): BertModel | RobertaModel {
    const config = loadConfig(nodePath.join(dir, 'config.json'));
    return config.modelType === 'roberta' ? RobertaModel.fromPretrained(dir, options) : BertModel.fromPretrained(dir, options);
  },
};
