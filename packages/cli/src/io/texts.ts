import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

export interface InputText {
  /** The "id" field of a JSONL object, else the 1-based line number. */
  id: string | number;
  text: string;
}

/**
 * Texts to embed: `.jsonl` -> one object per line with the text in `textField` (blank lines
 * skipped); anything else -> one text per line (blank lines skipped, ids = line numbers).
 */
export function readTexts(path: string, textField: string): InputText[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const jsonl = extname(path).toLowerCase() === '.jsonl';
  const texts: InputText[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const lineNumber = index + 1;
    if (!jsonl) {
      texts.push({ id: lineNumber, text: line });
      return;
    }
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path}:${lineNumber}: not valid JSON (${(error as Error).message})`);
    }
    const text = record?.[textField];
    if (typeof text !== 'string') {
      throw new Error(`${path}:${lineNumber}: field '${textField}' should be a string, found ${text === undefined ? 'no such field' : JSON.stringify(text)} (set --text-field)`);
    }
    const id = typeof record.id === 'string' || typeof record.id === 'number' ? record.id : lineNumber;
    texts.push({ id, text });
  });
  return texts;
}
