import { open } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { detectFormat, foreignEncoding } from './detect.js';
import { checkObjectRecord, checkTextLine, type RecordCheck } from './records.js';
import { Utf8EscapeDecoder } from './utf8.js';
import { JsonArrayStreamParser } from './wudao-parser.js';
import {
  CorpusError,
  type CorpusDocument,
  type CorpusFormat,
  type CorpusIssue,
  type FileSummary,
  type ReadSummary,
} from './types.js';

export interface ReadOptions {
  /** 'auto' (default) picks per file with {@link detectFormat}. */
  format?: 'auto' | CorpusFormat;
  /** 'skip' (default): report malformed records/files and go on; 'fail': throw a CorpusError at the first. */
  onError?: 'skip' | 'fail';
  /** Called for every problem, before skipping or throwing. */
  onIssue?: (issue: CorpusIssue) => void;
  /** Compute each file's sha256 while reading (for manifests). Default false. */
  hash?: boolean;
  /** How many issues `summary.issues` keeps (all are counted and passed to `onIssue`). Default 100. */
  maxIssuesKept?: number;
  /** Read size in bytes. Default 1 MiB. */
  chunkBytes?: number;
  /** Called after each chunk with the number of bytes just read (for progress meters). */
  onBytes?: (bytes: number) => void;
}

/**
 * Streams documents from corpus files; memory does not grow with file size (one chunk plus one
 * record at a time). Iterate once; `summary` is complete when iteration ends.
 */
export class DocumentReader implements AsyncIterable<CorpusDocument> {
  readonly summary: ReadSummary = {
    files: 0,
    filesFailed: 0,
    records: 0,
    documents: 0,
    skipped: 0,
    empty: 0,
    bytes: 0,
    issues: [],
    issueCount: 0,
    byFile: [],
  };
  private started = false;

  constructor(
    readonly paths: readonly string[],
    private readonly options: ReadOptions = {},
  ) {
    const onError = options.onError ?? 'skip';
    if (onError !== 'skip' && onError !== 'fail') {
      throw new Error(`readDocuments: onError must be 'skip' or 'fail', found ${JSON.stringify(onError)}`);
    }
    const format = options.format ?? 'auto';
    if (!['auto', 'wudao', 'jsonl', 'text'].includes(format)) {
      throw new Error(`readDocuments: format must be auto|wudao|jsonl|text, found ${JSON.stringify(format)}`);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CorpusDocument> {
    if (this.started) throw new Error('readDocuments: a DocumentReader can be iterated only once');
    this.started = true;
    for (const file of this.paths) yield* this.readFile(file);
  }

  private report(issue: CorpusIssue, fs: FileSummary): void {
    const s = this.summary;
    s.issueCount++;
    if (s.issues.length < (this.options.maxIssuesKept ?? 100)) s.issues.push(issue);
    if (issue.fatalToFile) {
      fs.failed = issue;
      s.filesFailed++;
    } else {
      fs.skipped++;
      s.skipped++;
    }
    this.options.onIssue?.(issue);
    if ((this.options.onError ?? 'skip') === 'fail') throw new CorpusError(issue);
  }

  private async *readFile(file: string): AsyncGenerator<CorpusDocument> {
    const s = this.summary;
    s.files++;
    let format: CorpusFormat = 'wudao';
    const fs: FileSummary = { file, format, bytes: 0, records: 0, documents: 0, skipped: 0, empty: 0 };
    s.byFile.push(fs);
    let foreign: string | undefined;
    try {
      foreign = await foreignEncoding(file);
      format = this.options.format && this.options.format !== 'auto' ? this.options.format : await detectFormat(file);
    } catch (e) {
      this.report({ kind: 'io', file, index: 0, message: (e as Error).message, fatalToFile: true }, fs);
      return;
    }
    if (foreign) {
      this.report({ kind: 'encoding', file, index: 0, message: foreign, fatalToFile: true }, fs);
      return;
    }
    fs.format = format;
    const hash: Hash | null = this.options.hash ? createHash('sha256') : null;
    const decoder = new Utf8EscapeDecoder();
    const handler = format === 'wudao' ? new WudaoHandler() : new LineHandler(format);
    const chunks = chunksOf(file, this.options.chunkBytes ?? 1 << 20);
    let stopped = false;
    // Turns raw records into documents/issues; returns false when the file must stop.
    const emit = function* (this: DocumentReader, items: Array<{ index: number; check: RecordCheck }>) {
      for (const { index, check } of items) {
        fs.records++;
        s.records++;
        if (check.ok === true) {
          fs.documents++;
          s.documents++;
          yield check.doc;
        } else if (check.ok === 'empty') {
          fs.empty++;
          s.empty++;
        } else {
          this.report({ kind: check.kind, file, index, message: check.message, fatalToFile: false }, fs);
        }
      }
    }.bind(this);
    try {
      try {
        for await (const chunk of chunks) {
          fs.bytes += chunk.length;
          s.bytes += chunk.length;
          hash?.update(chunk);
          this.options.onBytes?.(chunk.length);
          yield* emit(handler.write(decoder.write(chunk), file));
          if (handler.failure) break;
        }
      } catch (e) {
        if (e instanceof CorpusError) throw e;
        this.report({ kind: 'io', file, index: handler.nextIndex, message: (e as Error).message, fatalToFile: true }, fs);
        stopped = true;
      }
      if (!stopped && !handler.failure) {
        yield* emit(handler.write(decoder.end(), file));
        if (!handler.failure) yield* emit(handler.end(file));
      }
      if (handler.failure) {
        const f = handler.failure;
        this.report({ kind: f.kind, file, index: f.index, message: f.message, fatalToFile: true }, fs);
      } else if (!stopped && hash) {
        fs.sha256 = hash.digest('hex');
      }
    } finally {
      await chunks.return(undefined);
    }
  }
}

/**
 * The file's bytes in chunks of `size`, all read into one buffer. Why not a read stream: a stream
 * allocates a fresh buffer per chunk and they are freed only when garbage is collected, which held
 * tens of MB of finished chunks at a time. Each chunk is valid until the next one is asked for;
 * every consumer here copies what it keeps (decoder tail, hash, decoded text).
 */
async function* chunksOf(file: string, size: number): AsyncGenerator<Buffer, void, undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, size, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

interface FormatHandler {
  failure: { kind: 'syntax' | 'truncated' | 'not-array'; index: number; message: string } | null;
  readonly nextIndex: number;
  write(text: string, file: string): Array<{ index: number; check: RecordCheck }>;
  end(file: string): Array<{ index: number; check: RecordCheck }>;
}

class WudaoHandler implements FormatHandler {
  private readonly parser = new JsonArrayStreamParser();
  failure: FormatHandler['failure'] = null;
  nextIndex = 0;

  write(text: string, file: string) {
    return this.wrap(this.parser.write(text), file);
  }

  end(file: string) {
    return this.wrap(this.parser.end(), file);
  }

  private wrap(items: Array<{ index: number; value: unknown }>, file: string) {
    this.failure = this.parser.failure;
    if (items.length) this.nextIndex = items[items.length - 1].index + 1;
    return items.map(({ index, value }) => ({ index, check: checkObjectRecord(value, 'wudao', file, index) }));
  }
}

/** JSONL and plain text: one record per line (LF or CRLF); blank lines are not records. */
class LineHandler implements FormatHandler {
  private carry = '';
  failure: FormatHandler['failure'] = null;
  nextIndex = 0;

  constructor(private readonly format: 'jsonl' | 'text') {}

  write(text: string, file: string) {
    const out: Array<{ index: number; check: RecordCheck }> = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = (start === 0 ? this.carry + text.slice(0, nl) : text.slice(start, nl));
      if (start === 0) this.carry = '';
      this.line(line, file, out, false);
      start = nl + 1;
    }
    this.carry += start === 0 ? text : text.slice(start);
    return out;
  }

  end(file: string) {
    const out: Array<{ index: number; check: RecordCheck }> = [];
    if (this.carry.length > 0) this.line(this.carry, file, out, true);
    this.carry = '';
    return out;
  }

  private line(raw: string, file: string, out: Array<{ index: number; check: RecordCheck }>, last: boolean): void {
    const index = this.nextIndex++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    if (this.format === 'text') {
      out.push({ index, check: checkTextLine(line, file, index) });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      const kind = last ? 'truncated' : 'syntax';
      const msg = last
        ? `last line is not valid JSON (truncated file?): ${(e as Error).message}`
        : `line ${index + 1} is not valid JSON: ${(e as Error).message}`;
      out.push({ index, check: { ok: false, kind, message: msg } });
      return;
    }
    out.push({ index, check: checkObjectRecord(value, 'jsonl', file, index) });
  }
}

/**
 * Streams documents from one or more corpus files (WuDao JSON array, JSONL, plain text).
 *
 * @example
 * const reader = readDocuments(files, { format: 'auto', onError: 'skip' });
 * for await (const doc of reader) use(doc.text);
 * console.log(reader.summary.documents, reader.summary.skipped);
 */
export function readDocuments(paths: string | readonly string[], options: ReadOptions = {}): DocumentReader {
  return new DocumentReader(typeof paths === 'string' ? [paths] : [...paths], options);
}
