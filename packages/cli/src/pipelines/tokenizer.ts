import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AutoTokenizer, type AnyTokenizer } from '@retro/data';

/** A tokenizer folder, or a file inside one (vocab.txt / tokenizer.json); returns it and its files. */
export async function loadTokenizer(path: string): Promise<{ tokenizer: AnyTokenizer; dir: string; files: string[] }> {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  const candidates = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
  const files = statSync(path).isDirectory() ? candidates.map((f) => join(dir, f)).filter((f) => existsSync(f)) : [join(dir, basename(path))];
  return { tokenizer, dir, files };
}
