import type { OptionSpec } from '../args/spec.js';

export const CONFIG_OPTION: OptionSpec = {
  name: 'config',
  type: 'path',
  placeholder: 'FILE',
  short: 'c',
  description: 'JSON or YAML file with any of the options below (flags win over the file)',
};

export const BACKEND_OPTION: OptionSpec = {
  name: 'backend',
  type: 'enum',
  choices: ['cpu', 'gpujs'],
  description: 'Tensor backend (default: $RETRO_BACKEND, else cpu). gpujs fails loudly if no GPU context can start',
};

export const POOLING_OPTION: OptionSpec = {
  name: 'pooling',
  type: 'enum',
  choices: ['cls', 'mean'],
  default: 'cls',
  description: 'Sentence vector: the [CLS] hidden state (RetroMAE) or the mean over real tokens',
};

export const NORMALIZE_OPTION: OptionSpec = {
  name: 'normalize',
  type: 'boolean',
  default: true,
  description: 'L2-normalise every vector',
};

/** embed / eval: the pooling the model folder was made for unless given. */
export const FOLDER_POOLING_OPTION: OptionSpec = {
  name: 'pooling',
  type: 'enum',
  choices: ['cls', 'mean'],
  description: 'Sentence vector: the [CLS] hidden state or the mean over real tokens (default: what the folder says: 1_Pooling/config.json, a fine-tune\'s best.json or trainer_state.json; else cls, as RetroMAE trains)',
};
