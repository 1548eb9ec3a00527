import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AutoTokenizer, type AnyTokenizer } from '@retro/data';

/** A tokenizer folder, or a file inside one (vocab.txt / tokenizer.json); returns it and its files. */
export async function loadTokenizer(path: string): Promise<{ tokenizer: AnyTokenizer; dir: string; files: string[] }> {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  const files = statSync(path).isDirectory() ? await AutoTokenizer.filesIn(dir) : [join(dir, basename(path))];
  return { tokenizer, dir, files };
}
