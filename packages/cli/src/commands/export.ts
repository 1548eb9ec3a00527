import type { CommandSpec } from '../args/spec.js';
import { CONFIG_OPTION } from './common.js';

export interface ExportOptions {
  model: string;
  output: string;
  dtype: 'f32' | 'f16' | 'bf16';
  withMlmHead: boolean;
  pooling?: 'cls' | 'mean';
  normalize: boolean;
  overwrite: boolean;
}

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'Write a checkpoint as an HF encoder + sentence-transformers folder',
  usage: 'retro export --model DIR --output DIR [options]',
  description:
    'Turns a retro checkpoint (or any BERT/RoBERTa folder) into what embedding users load: an encoder-only HF folder ' +
    '(config.json with architectures BertModel/RobertaModel, model.safetensors without c_head.* and without the MLM ' +
    'head unless --with-mlm-head), the tokenizer with model_max_length equal to what the position table holds, ' +
    'the sentence-transformers files (modules.json, 1_Pooling/config.json with the pooling the model was trained for, ' +
    'sentence_bert_config.json, a Normalize module when --normalize) and a model card README.md saying how it was trained. ' +
    'Loads in HF (AutoModel.from_pretrained), sentence-transformers (SentenceTransformer(dir)) and retro (AutoModel, retro embed).',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Checkpoint folder (checkpoint-<step>/ of retro pretrain or finetune, or an HF folder)' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'DIR', description: 'Folder to write (new or empty; never inside --model)' },
    { name: 'dtype', type: 'enum', choices: ['f32', 'f16', 'bf16'], default: 'f32', description: 'Weight dtype in model.safetensors (f16/bf16 halve the size)' },
    { name: 'with-mlm-head', type: 'boolean', default: false, description: 'Keep the masked-LM head (BertForMaskedLM/RobertaForMaskedLM) instead of the bare encoder' },
    { name: 'pooling', type: 'enum', choices: ['cls', 'mean'], description: 'Sentence pooling to declare (default: what the checkpoint was trained with, cls for RetroMAE)' },
    { name: 'normalize', type: 'boolean', default: true, description: 'Declare L2-normalised sentence vectors (sentence-transformers Normalize module)' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Write into a non-empty --output folder' },
  ],
  examples: ['retro export --model runs/poetry/checkpoint-2000 --output exported/poetry-retromae', 'retro export --model runs/ft/best --output exported/ft --dtype f16'],
};
