/**
 * Corpus files already in memory as text (a browser's dropped files, a fetch result): the
 * same formats, record checks and issue reports as `readDocuments`, without a file system.
 * Meant for files that fit in memory; use `readDocuments` to stream big ones.
 */
import { recordLines } from '@retro/common';
import { formatFromHead } from './format-of.js';
import { checkObjectRecord, checkTextLine, type RecordCheck } from './records.js';
import type { CorpusDocument, CorpusFormat, CorpusIssue } from './types.js';

export interface TextCorpus {
  format: CorpusFormat;
  documents: CorpusDocument[];
  /** Problems in file order; a `fatalToFile` one (syntax, not-array) ends the file. */
  issues: CorpusIssue[];
  /** Records met (array elements or non-blank lines): documents + skipped + empty. */
  records: number;
  /** Well-formed records with empty text. */
  empty: number;
}

/**
 * Documents of one corpus file's text. `file` names it in issues (and picks the format by
 * extension when `format` is 'auto', the default). WuDao: one JSON array of records; JSONL: one
 * record per line; text: one document per non-blank line.
 */
export function documentsFromText(text: string, file: string, options: { format?: 'auto' | CorpusFormat } = {}): TextCorpus {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const format = !options.format || options.format === 'auto' ? formatFromHead(file, body.slice(0, 65536)) : options.format;
  const out: TextCorpus = { format, documents: [], issues: [], records: 0, empty: 0 };
  const take = (check: RecordCheck, index: number): void => {
    out.records++;
    if (check.ok === true) out.documents.push(check.doc);
    else if (check.ok === 'empty') out.empty++;
    else out.issues.push({ kind: check.kind, file, index, message: check.message, fatalToFile: false });
  };
  if (format === 'wudao') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      out.issues.push({ kind: 'syntax', file, index: 0, message: `not valid JSON: ${(error as Error).message}`, fatalToFile: true });
      return out;
    }
    if (!Array.isArray(parsed)) {
      const found = parsed === null ? 'null' : typeof parsed;
      out.issues.push({ kind: 'not-array', file, index: 0, message: `a WuDao file is one JSON array of records, found ${found} at the top level`, fatalToFile: true });
      return out;
    }
    parsed.forEach((value, index) => take(checkObjectRecord(value, format, file, index), index));
    return out;
  }
  for (const { line, text: record, last } of recordLines(body)) {
    const index = line - 1;
    if (format === 'text') {
      take(checkTextLine(record, file, index), index);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(record);
    } catch (error) {
      out.records++;
      const kind = last ? 'truncated' : 'syntax';
      out.issues.push({ kind, file, index, message: `line ${line} is not valid JSON: ${(error as Error).message}`, fatalToFile: false });
      continue;
    }
    take(checkObjectRecord(value, format, file, index), index);
  }
  return out;
}
