import { readFileSync } from 'node:fs';
import { recordLines } from '@retro/common';

/** One parsed JSONL record and where it came from, so later field checks can name file:line. */
export interface JsonlRecord {
  value: Record<string, unknown>;
  line: number;
}

/** Reads a UTF-8 file, dropping a leading BOM (some exported datasets carry one). */
export function readText(file: string, caller: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${caller}: cannot read ${file}: ${(err as Error).message}`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses a JSONL file into objects. Blank lines are skipped (a trailing newline is normal);
 * anything else that is not a JSON object is an error naming `file:line`.
 */
export function readJsonl(file: string, caller: string): JsonlRecord[] {
  return parseJsonl(readText(file, caller), file, caller);
}

/** `readJsonl` over text already in memory (a browser's dropped file); `file` names it in errors. */
export function parseJsonl(text: string, file: string, caller: string): JsonlRecord[] {
  const out: JsonlRecord[] = [];
  for (const { line, text: record } of recordLines(text)) {
    let value: unknown;
    try {
      value = JSON.parse(record);
    } catch (err) {
      throw new Error(`${caller}: ${file}:${line}: invalid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${caller}: ${file}:${line}: expected a JSON object, found ${describe(value)}`);
    }
    out.push({ value: value as Record<string, unknown>, line });
  }
  return out;
}

/** Short type description for error messages: `array`, `null`, `number 3`, `string "ab…"`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 30 ? value.slice(0, 30) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** Field accessors that fail with `caller: file:line: field "x": expected …, found …`. */
export class FieldReader {
  constructor(
    private readonly caller: string,
    private readonly file: string,
  ) {}

  fail(line: number, field: string, expected: string, found: unknown): never {
    throw new Error(`${this.caller}: ${this.file}:${line}: field "${field}": expected ${expected}, found ${found === undefined ? 'nothing (missing)' : describe(found)}`);
  }

  string(rec: JsonlRecord, field: string): string {
    const v = rec.value[field];
    if (typeof v !== 'string') this.fail(rec.line, field, 'a string', v);
    return v;
  }

  /** BEIR ids are strings, but some exports write numeric ids; both are accepted and kept as strings. */
  id(rec: JsonlRecord, field: string): string {
    const v = rec.value[field];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    return this.fail(rec.line, field, 'a non-empty string or number id', v);
  }

  optionalString(rec: JsonlRecord, field: string): string {
    const v = rec.value[field];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') this.fail(rec.line, field, 'a string or nothing', v);
    return v;
  }

  finiteNumber(rec: JsonlRecord, field: string): number {
    const v = rec.value[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(rec.line, field, 'a finite number', v);
    return v;
  }

  stringArray(rec: JsonlRecord, field: string): string[] {
    const v = rec.value[field];
    if (!Array.isArray(v)) this.fail(rec.line, field, 'an array of strings', v);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'string') this.fail(rec.line, `${field}[${i}]`, 'a string', v[i]);
    }
    return v as string[];
  }
}
