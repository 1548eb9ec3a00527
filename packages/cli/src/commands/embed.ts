import type { CommandSpec } from '../args/spec.js';
import { BACKEND_OPTION, CONFIG_OPTION, FOLDER_POOLING_OPTION, NORMALIZE_OPTION } from './common.js';

export interface EmbedOptions {
  model: string;
  input: string;
  inputFormat?: 'jsonl' | 'text';
  textField: string;
  overwrite: boolean;
  output: string;
  format?: 'jsonl' | 'npy';
  batchSize: number;
  maxLength?: number;
  /** Default: the folder's (readFolderPooling). */
  pooling?: 'cls' | 'mean';
  normalize: boolean;
  backend?: 'cpu' | 'gpujs';
}

export const embedCommand: CommandSpec = {
  name: 'embed',
  summary: 'Turn texts into sentence vectors (JSONL or NPY)',
  usage: 'retro embed --model DIR --input FILE --output FILE [options]',
  description:
    'Encodes every text of --input with a pretrained encoder (a retro checkpoint, an exported model or any HF ' +
    'BERT/RoBERTa encoder folder) and writes one vector per text, streaming: memory stays bounded for any input size. ' +
    'Input: a .jsonl file (one object per line; the text in --text-field, an optional "id" kept), any ' +
    'other file with one text per line (blank lines skipped; ids are line numbers), or - for stdin (text lines ' +
    'unless --input-format jsonl). ' +
    'Output: .jsonl ({"id", "embedding"} per line) or .npy (float32 [N, H], rows in input order) with the ids ' +
    'beside it in <name>.ids.jsonl (one JSON id per line). The output never replaces the model or the input; ' +
    'an existing output file needs --overwrite.',
  options: [
    CONFIG_OPTION,
    { name: 'model', type: 'path', required: true, short: 'm', placeholder: 'DIR', description: 'Pretrained model directory (a checkpoint-<step>/ or an exported model)' },
    { name: 'input', type: 'path', required: true, short: 'i', placeholder: 'FILE|-', description: 'Texts: .jsonl, one text per line, or - for stdin' },
    { name: 'input-format', type: 'enum', choices: ['jsonl', 'text'], description: 'How to read --input (default: jsonl for .jsonl files, else text)' },
    { name: 'text-field', type: 'string', default: 'text', placeholder: 'NAME', description: 'Field holding the text in .jsonl input' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'FILE', description: 'Where to write the vectors (.jsonl or .npy)' },
    { name: 'format', type: 'enum', choices: ['jsonl', 'npy'], description: 'Output format (default: from the --output extension)' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Replace an existing --output file (never a model file or the input)' },
    { name: 'batch-size', type: 'integer', default: 32, min: 1, short: 'b', description: 'Texts per forward pass' },
    { name: 'max-length', type: 'integer', min: 2, description: 'Truncate texts to this many tokens (default: what the model\'s position table holds)' },
    FOLDER_POOLING_OPTION,
    NORMALIZE_OPTION,
    BACKEND_OPTION,
  ],
  examples: [
    'retro embed --model runs/poetry/checkpoint-2000 --input texts.txt --output vectors.npy',
    'cat texts.txt | retro embed --model exported/ --input - --output vectors.jsonl',
  ],
};
