import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { CorpusFormat } from './types.js';

/**
 * Guesses a file's format: `.jsonl`/`.ndjson` -> jsonl, `.txt` -> text; otherwise by the first
 * non-blank character of the file: `[` -> wudao, `{` -> jsonl when the first line is a complete
 * JSON value (else wudao, so a pretty-printed object such as manifest.json is reported as
 * "not an array" rather than as hundreds of broken lines), anything else -> text.
 */
export async function detectFormat(file: string): Promise<CorpusFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt' || ext === '.text') return 'text';
  const fh = await open(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  head = head.replace(/^\uFEFF/, '');
  const first = head.trimStart()[0];
  if (first === '[') return 'wudao';
  if (first === '{') {
    const line = head.trimStart().split('\n', 1)[0];
    try {
      JSON.parse(line);
      return 'jsonl';
    } catch {
      return ext === '.json' ? 'wudao' : 'jsonl';
    }
  }
  return ext === '.json' ? 'wudao' : 'text';
}
