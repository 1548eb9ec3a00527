import { nodePath } from '@retro/common';
import { BertTokenizer, configOptions } from './bert-tokenizer.js';
import { fileExists, readTextFile } from './files.js';
import { RobertaTokenizer, robertaConfigOptions } from './roberta-tokenizer.js';
import { checkTokenizerJson, describeValue } from './tokenizer-json.js';

export type AnyTokenizer = BertTokenizer | RobertaTokenizer;

/** The files AutoTokenizer looks at. */
const TOKENIZER_FILES = ['tokenizer_config.json', 'tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt'] as const;

/** The files a saved tokenizer folder may hold (`save` writes them; HF writes the same names). */
const SAVED_TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Loads a saved tokenizer folder, picking the class from the files found in it. */
export const AutoTokenizer = {
  /**
   * `dir/tokenizer.json` decides by `model.type` (WordPiece -> BertTokenizer, BPE ->
   * RobertaTokenizer); without it, `vocab.txt` means BERT and `vocab.json` + `merges.txt` RoBERTa.
   * `tokenizer_config.json`, when present, supplies casing and special-token names, as in HF.
   */
  async fromPretrained(dir: string): Promise<AnyTokenizer> {
    const who = 'AutoTokenizer.fromPretrained';
    const files: Record<string, string> = {};
    for (const name of TOKENIZER_FILES) {
      const path = nodePath.join(dir, name);
      if (await fileExists(path)) files[name] = await readTextFile(path, who);
    }
    return AutoTokenizer.fromFiles(files, dir, who);
  },

  /**
   * The tokenizer files present in `dir` (paths), in a fixed order: what a shard manifest hashes
   * and a checkpoint copies, for BERT (vocab.txt) and RoBERTa (vocab.json + merges.txt) alike.
   */
  async filesIn(dir: string): Promise<string[]> {
    const present: string[] = [];
    for (const name of SAVED_TOKENIZER_FILES) {
      const path = nodePath.join(dir, name);
      if (await fileExists(path)) present.push(path);
    }
    return present;
  },

  /**
   * `fromPretrained` for a folder held in memory: file name -> text (e.g. files a browser user
   * dropped). `dir` names the folder in errors, `who` the caller.
   */
  fromFiles(files: Readonly<Record<string, string>>, dir = '<memory>', who = 'AutoTokenizer.fromFiles'): AnyTokenizer {
    // No node:path here: this runs in browsers too.
    const path = (f: string) => (dir.endsWith('/') ? `${dir}${f}` : `${dir}/${f}`);
    const text = (f: string): string | undefined => {
      const t = files[f];
      return t !== undefined && t.charCodeAt(0) === 0xfeff ? t.slice(1) : t;
    };
    const json = (f: string): unknown => {
      try {
        return JSON.parse(text(f)!);
      } catch (e) {
        throw new Error(`${who}: ${path(f)} is not valid JSON: ${(e as Error).message}`);
      }
    };
    let config: Record<string, unknown> = {};
    if (text('tokenizer_config.json') !== undefined) {
      const raw = json('tokenizer_config.json');
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new Error(`${who}: ${path('tokenizer_config.json')}: the top level is ${describeValue(raw)}, expected an object`);
      }
      config = raw as Record<string, unknown>;
    }
    // Errors of the tokenizer classes name fields, not files: say which file they are about.
    const from = <T>(file: string, build: () => T): T => {
      try {
        return build();
      } catch (error) {
        const message = (error as Error).message;
        throw new Error(message.includes(file) ? message : `${who}: ${file}: ${message}`);
      }
    };
    if (text('tokenizer.json') !== undefined) {
      const file = path('tokenizer.json');
      const parsed = checkTokenizerJson(json('tokenizer.json'), `${who}: ${file}`);
      if (parsed.model.type === 'WordPiece') return from(file, () => BertTokenizer.fromTokenizerJson(parsed, config));
      return from(file, () => RobertaTokenizer.fromTokenizerJson(parsed, config));
    }
    if (text('vocab.txt') !== undefined) return from(path('vocab.txt'), () => BertTokenizer.fromVocabText(text('vocab.txt')!, configOptions(config)));
    if (text('vocab.json') !== undefined && text('merges.txt') !== undefined) {
      const vocab = json('vocab.json') as Record<string, number>;
      return from(path('vocab.json'), () => RobertaTokenizer.fromVocabAndMerges(vocab, text('merges.txt')!, robertaConfigOptions(config)));
    }
    throw new Error(`${who}: ${dir} has none of tokenizer.json, vocab.txt, vocab.json + merges.txt`);
  },
};
