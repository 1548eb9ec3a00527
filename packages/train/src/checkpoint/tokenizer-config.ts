import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromJson } from '@retro/bert';
import { writeFileAtomic } from '@retro/common';

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt'];

/**
 * Makes `dir/tokenizer_config.json` state `model_max_length` = what the position table of
 * `dir/config.json` holds. Tokenizer files copied from elsewhere (bert-base-chinese's, `retro
 * tokenizer`'s) say 512 whatever the model, and HF tokenizers truncate by that number, so a
 * 128-position model would be fed 512 tokens. Other fields are kept; a folder with tokenizer files
 * but no tokenizer_config.json gets one holding only this field (HF reads its class from
 * config.json then). Returns the length written, or undefined when `dir` holds no BERT/RoBERTa
 * config.json or no tokenizer.
 */
export function alignTokenizerMaxLength(dir: string): number | undefined {
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile) || !TOKENIZER_FILES.some((name) => existsSync(join(dir, name)))) return undefined;
  const json = JSON.parse(readFileSync(configFile, 'utf8')) as { model_type?: unknown };
  // Only BERT and RoBERTa position tables are known here; other models' tokenizers are copied as they are.
  if (json.model_type !== 'bert' && json.model_type !== 'roberta') return undefined;
  const config = configFromJson(json, configFile);
  const file = join(dir, 'tokenizer_config.json');
  let tokenizerConfig: Record<string, unknown> = {};
  if (existsSync(file)) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object`);
    tokenizerConfig = parsed as Record<string, unknown>;
  }
  const maxLength = config.maxSequenceLength;
  // A rename, not a write through: a copied symlink must not carry the change back to its target.
  writeFileAtomic(file, `${JSON.stringify({ ...tokenizerConfig, model_max_length: maxLength }, null, 2)}\n`);
  return maxLength;
}
