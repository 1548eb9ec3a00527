import type { CommandSpec } from '../args/spec.js';
import { CONFIG_OPTION } from './common.js';

export interface TokenizerOptions {
  input: string[];
  output: string;
  type: 'wordpiece' | 'bpe';
  vocabSize: number;
  minCharFrequency: number;
  minWordFrequency: number;
  minFrequency: number;
  lowercase: boolean;
  overwrite: boolean;
}

export const tokenizerCommand: CommandSpec = {
  name: 'tokenizer',
  summary: 'Build a WordPiece (BERT) or byte-level BPE (RoBERTa) vocabulary from a corpus',
  usage: 'retro tokenizer --input FILES|DIRS --output DIR [options]',
  description:
    'Reads texts (WuDao JSON, JSONL with a text/content field, or one text per line; folders are read file by file) and ' +
    'writes a tokenizer folder that `retro prepare --tokenizer` and HF AutoTokenizer load. ' +
    '--type wordpiece: BERT-Chinese style (every CJK character its own token, kept by --min-char-frequency; ' +
    'latin/digit words kept whole by --min-word-frequency; `##` continuations): vocab.txt, tokenizer.json, ' +
    'tokenizer_config.json, special_tokens_map.json. --type bpe: byte-level BPE as RoBERTa (<s> <pad> </s> <unk> ... <mask>), ' +
    'merged until --vocab-size: vocab.json, merges.txt, tokenizer.json and configs.',
  options: [
    CONFIG_OPTION,
    { name: 'input', type: 'list', required: true, short: 'i', placeholder: 'PATHS', description: 'Corpus files or folders of them; comma-separated or repeated' },
    { name: 'output', type: 'path', required: true, short: 'o', placeholder: 'DIR', description: 'Tokenizer folder to write (new or empty)' },
    { name: 'type', type: 'enum', choices: ['wordpiece', 'bpe'], default: 'wordpiece', description: 'WordPiece for BERT, byte-level BPE for RoBERTa' },
    { name: 'vocab-size', type: 'integer', default: 30000, min: 262, description: 'BPE: target vocabulary size (specials and the 256 bytes included)' },
    { name: 'min-frequency', type: 'integer', default: 2, min: 1, description: 'BPE: stop merging when the best pair occurs fewer times' },
    { name: 'min-char-frequency', type: 'integer', default: 3, min: 1, description: 'WordPiece: keep a character seen at least this often' },
    { name: 'min-word-frequency', type: 'integer', default: 20, min: 1, description: 'WordPiece: keep a multi-character word whole when seen this often' },
    { name: 'lowercase', type: 'boolean', default: true, description: 'WordPiece: lower-case and strip accents (as bert-base-chinese)' },
    { name: 'overwrite', type: 'boolean', default: false, description: 'Write into a non-empty --output folder' },
  ],
  examples: ['retro tokenizer --input ../shared/corpus --output runs/vocab', 'retro tokenizer --input texts.txt --type bpe --vocab-size 8000 --output runs/bpe'],
};
