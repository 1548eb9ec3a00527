/**
 * AutoModelForMaskedLM: picks BertForMaskedLM or RobertaForMaskedLM from config.json's `model_type`.
 */
import { join } from 'node:path';
import { loadConfig } from './config.js';
import type { LoadOptions } from './checkpoint.js';
import { BertForMaskedLM, RobertaForMaskedLM, type ModelOptions } from './model.js';

export const AutoModelForMaskedLM = {
  /**
   * Loads `<dir>` (config.json + model.safetensors). model_type "bert" -> BertForMaskedLM,
   * "roberta" -> RobertaForMaskedLM; anything else throws naming the file and the value found.
   */
  fromPretrained(dir: string, options: LoadOptions & ModelOptions = {}): BertForMaskedLM | RobertaForMaskedLM {
    const config = loadConfig(join(dir, 'config.json'));
    return config.modelType === 'roberta' ? RobertaForMaskedLM.fromPretrained(dir, options) : BertForMaskedLM.fromPretrained(dir, options);
  },
};
