import { createReadStream, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { recordLines } from '@retro/common';

export interface InputText {
  /** The "id" field of a JSONL object, else the 1-based line number. */
  id: string | number;
  text: string;
}

export type InputFormat = 'jsonl' | 'text';

/** The input format from --input-format, else the extension (.jsonl), else plain text (stdin too). */
export function inputFormat(path: string, given?: InputFormat): InputFormat {
  if (given) return given;
  return path !== '-' && extname(path).toLowerCase() === '.jsonl' ? 'jsonl' : 'text';
}

/** One input line -> a text, or undefined for a blank line; errors name the file and line. */
function parseLine(line: string, lineNumber: number, format: InputFormat, source: string, textField: string): InputText | undefined {
  if (line.trim() === '') return undefined;
  if (format === 'text') return { id: lineNumber, text: line };
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch (error) {
    throw new Error(`${source}:${lineNumber}: not valid JSON (${(error as Error).message})`);
  }
  const text = record?.[textField];
  if (typeof text !== 'string') {
    throw new Error(`${source}:${lineNumber}: field '${textField}' should be a string, found ${text === undefined ? 'no such field' : JSON.stringify(text)} (set --text-field)`);
  }
  const id = typeof record.id === 'string' || typeof record.id === 'number' ? record.id : lineNumber;
  return { id, text };
}

/**
 * Texts to embed, read whole: `.jsonl` -> one object per line with the text in `textField` (blank
 * lines skipped); anything else -> one text per line (blank lines skipped, ids = line numbers).
 */
export function readTexts(path: string, textField: string): InputText[] {
  const format = inputFormat(path);
  const texts: InputText[] = [];
  for (const { line, text } of recordLines(readFileSync(path, 'utf8'))) {
    const item = parseLine(text, line, format, path, textField);
    if (item) texts.push(item);
  }
  return texts;
}

/**
 * The same texts streamed in groups of at most `groupSize` (bounded memory for any input size);
 * `path` '-' reads stdin. Lines are read with CRLF or LF endings.
 */
export async function* streamTexts(
  path: string,
  options: { textField: string; format?: InputFormat; groupSize: number; stdin?: Readable },
): AsyncGenerator<InputText[]> {
  const format = inputFormat(path, options.format);
  const source = path === '-' ? '<stdin>' : path;
  const stream = path === '-' ? (options.stdin ?? process.stdin) : createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let group: InputText[] = [];
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      // A UTF-8 byte-order mark is not part of the first text.
      const item = parseLine(lineNumber === 1 ? line.replace(/^\uFEFF/, '') : line, lineNumber, format, source, options.textField);
      if (!item) continue;
      group.push(item);
      if (group.length >= options.groupSize) {
        yield group;
        group = [];
      }
    }
    if (group.length > 0) yield group;
  } finally {
    lines.close();
    if (path !== '-') (stream as ReturnType<typeof createReadStream>).destroy();
  }
}

/** Non-blank lines of a file, counted in one streamed pass (for progress totals). */
export async function countTexts(path: string): Promise<number> {
  let count = 0;
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') count++;
  return count;
}
