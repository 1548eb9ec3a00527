import type { CorpusDocument, CorpusFormat } from './types.js';
import { describeIllFormed } from './utf8.js';

/** Result of checking one raw record. */
export type RecordCheck =
  | { ok: true; doc: CorpusDocument }
  | { ok: false; kind: 'schema' | 'invalid-utf8' | 'syntax' | 'truncated'; message: string }
  | { ok: 'empty' };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Validates a parsed WuDao/JSONL record and turns it into a document.
 * WuDao: `content` (string, required), `title`/`dataType`/`uniqueKey`/`titleUkey` (string or
 * null), `id` (number or string). JSONL additionally accepts `text` in place of `content`.
 */
export function checkObjectRecord(value: unknown, format: CorpusFormat, file: string, index: number): RecordCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, kind: 'schema', message: `expected an object, found ${typeName(value)}` };
  }
  const rec = value as Record<string, unknown>;
  for (const key in rec) {
    const badKey = describeIllFormed(key);
    if (badKey) return { ok: false, kind: 'invalid-utf8', message: `key ${JSON.stringify(key)}: ${badKey}` };
    const v = rec[key];
    if (typeof v === 'string') {
      const bad = describeIllFormed(v);
      if (bad) return { ok: false, kind: 'invalid-utf8', message: `field ${key}: ${bad}` };
    }
  }
  const textField = format === 'jsonl' && rec.content === undefined && rec.text !== undefined ? 'text' : 'content';
  const text = rec[textField];
  if (text === undefined) {
    return { ok: false, kind: 'schema', message: format === 'jsonl' ? 'missing field text (or content)' : 'missing field content' };
  }
  if (typeof text !== 'string') {
    return { ok: false, kind: 'schema', message: `field ${textField}: expected string, found ${typeName(text)}` };
  }
  for (const f of ['title', 'dataType', 'uniqueKey', 'titleUkey'] as const) {
    const v = rec[f];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      return { ok: false, kind: 'schema', message: `field ${f}: expected string, found ${typeName(v)}` };
    }
  }
  const id = rec.id;
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    return { ok: false, kind: 'schema', message: `field id: expected number or string, found ${typeName(id)}` };
  }
  if (text.trim().length === 0) return { ok: 'empty' };
  const doc: CorpusDocument = { text, source: { file, index } };
  if (typeof rec.title === 'string') doc.title = rec.title;
  if (typeof id === 'string' || typeof id === 'number') doc.id = id;
  if (typeof rec.dataType === 'string') doc.dataType = rec.dataType;
  return { ok: true, doc };
}

/** A plain-text line is one document. */
export function checkTextLine(line: string, file: string, index: number): RecordCheck {
  const bad = describeIllFormed(line);
  if (bad) return { ok: false, kind: 'invalid-utf8', message: bad };
  if (line.trim().length === 0) return { ok: 'empty' };
  return { ok: true, doc: { text: line, source: { file, index } } };
}
