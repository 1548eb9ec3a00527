import { join } from 'node:path';
import { BertTokenizer, configOptions } from './bert-tokenizer.js';
import { fileExists, readJsonFile } from './files.js';
import { RobertaTokenizer, robertaConfigOptions } from './roberta-tokenizer.js';
import { checkTokenizerJson, describeValue } from './tokenizer-json.js';

export type AnyTokenizer = BertTokenizer | RobertaTokenizer;

/** Loads a saved tokenizer folder, picking the class from the files found in it. */
export const AutoTokenizer = {
  /**
   * `dir/tokenizer.json` decides by `model.type` (WordPiece -> BertTokenizer, BPE ->
   * RobertaTokenizer); without it, `vocab.txt` means BERT and `vocab.json` + `merges.txt` RoBERTa.
   * `tokenizer_config.json`, when present, supplies casing and special-token names, as in HF.
   */
  async fromPretrained(dir: string): Promise<AnyTokenizer> {
    const who = 'AutoTokenizer.fromPretrained';
    const path = (f: string) => join(dir, f);
    let config: Record<string, unknown> = {};
    if (await fileExists(path('tokenizer_config.json'))) {
      const raw = await readJsonFile(path('tokenizer_config.json'), who);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new Error(`${who}: ${path('tokenizer_config.json')}: the top level is ${describeValue(raw)}, expected an object`);
      }
      config = raw as Record<string, unknown>;
    }
    // Errors of the tokenizer classes name fields, not files: say which file they are about.
    const from = async <T>(file: string, build: () => T | Promise<T>): Promise<T> => {
      try {
        return await build();
      } catch (error) {
        const message = (error as Error).message;
        throw new Error(message.includes(file) ? message : `${who}: ${file}: ${message}`);
      }
    };
    if (await fileExists(path('tokenizer.json'))) {
      const file = path('tokenizer.json');
      const json = checkTokenizerJson(await readJsonFile(file, who), `${who}: ${file}`);
      if (json.model.type === 'WordPiece') return from(file, () => BertTokenizer.fromTokenizerJson(json, config));
      return from(file, () => RobertaTokenizer.fromTokenizerJson(json, config));
    }
    if (await fileExists(path('vocab.txt'))) return from(path('vocab.txt'), () => BertTokenizer.fromVocabFile(path('vocab.txt'), configOptions(config)));
    if ((await fileExists(path('vocab.json'))) && (await fileExists(path('merges.txt')))) {
      return from(path('vocab.json'), () => RobertaTokenizer.fromFiles(path('vocab.json'), path('merges.txt'), robertaConfigOptions(config)));
    }
    throw new Error(`${who}: ${dir} has none of tokenizer.json, vocab.txt, vocab.json + merges.txt`);
  },
};
