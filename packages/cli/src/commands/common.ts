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
