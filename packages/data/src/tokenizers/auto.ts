import { join } from 'node:path';
import { BertTokenizer, configOptions } from './bert-tokenizer.js';
import { fileExists, readJsonFile } from './files.js';
import { RobertaTokenizer, robertaConfigOptions } from './roberta-tokenizer.js';
import type { TokenizerJson } from './tokenizer-json.js';

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
    const config = (await fileExists(path('tokenizer_config.json')))
      ? ((await readJsonFile(path('tokenizer_config.json'), who)) as Record<string, unknown>)
      : {};
    if (await fileExists(path('tokenizer.json'))) {
      const json = (await readJsonFile(path('tokenizer.json'), who)) as TokenizerJson;
      const type = json.model?.type;
      if (type === 'WordPiece') return BertTokenizer.fromTokenizerJson(json, config);
      if (type === 'BPE') return RobertaTokenizer.fromTokenizerJson(json, config);
      throw new Error(`${who}: ${path('tokenizer.json')} has model.type ${JSON.stringify(type)}; expected "WordPiece" or "BPE"`);
    }
    if (await fileExists(path('vocab.txt'))) return BertTokenizer.fromVocabFile(path('vocab.txt'), configOptions(config));
    if ((await fileExists(path('vocab.json'))) && (await fileExists(path('merges.txt')))) {
      return RobertaTokenizer.fromFiles(path('vocab.json'), path('merges.txt'), robertaConfigOptions(config));
    }
    throw new Error(`${who}: ${dir} has none of tokenizer.json, vocab.txt, vocab.json + merges.txt`);
  },
};
