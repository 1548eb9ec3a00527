import type { CorpusFormat } from './types.js';

/** The lower-case extension of a file name or path, with its dot ('' when there is none). */
function extensionOf(file: string): string {
  const name = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** The format an extension settles on its own: `.jsonl`/`.ndjson` -> jsonl, `.txt`/`.text` -> text. */
export function formatFromName(file: string): CorpusFormat | undefined {
  const ext = extensionOf(file);
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt' || ext === '.text') return 'text';
  return undefined;
}

/**
 * A file's format from its name and the start of its text (see `detectFormat`): the extension
 * when it settles it, else the first non-blank character: `[` -> wudao, `{` -> jsonl when the
 * first line is a complete JSON value (else wudao), anything else -> text (wudao for `.json`).
 */
export function formatFromHead(file: string, head: string): CorpusFormat {
  const byName = formatFromName(file);
  if (byName) return byName;
  const isJson = extensionOf(file) === '.json';
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (start[0] === '[') return 'wudao';
  if (start[0] === '{') {
    try {
      JSON.parse(start.split('\n', 1)[0]);
      return 'jsonl';
    } catch {
      return isJson ? 'wudao' : 'jsonl';
    }
  }
  return isJson ? 'wudao' : 'text';
}
