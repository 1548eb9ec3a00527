import Parser from 'stream-json/Parser.js';
import Assembler from 'stream-json/Assembler.js';

/** A raw array element and its 0-based index. */
export interface RawElement {
  index: number;
  value: unknown;
}

/** Why the rest of a WuDao file cannot be read. */
export interface ArrayParseFailure {
  kind: 'syntax' | 'truncated' | 'not-array';
  /** Index of the element being parsed when it failed (= number of complete elements before it). */
  index: number;
  message: string;
}

interface Token {
  name: string;
  value?: string;
}

interface ParserInternals {
  push(token: Token): boolean;
  _transform(chunk: string, encoding: string, cb: (err?: Error | null) => void): void;
  _flush(cb: (err?: Error | null) => void): void;
}

/**
 * Incremental reader of one top-level JSON array, element by element, on top of stream-json's
 * tokenizer.
 *
 * Why stream-json is driven synchronously instead of piped: in a pipe, a parse error destroys the
 * stream and drops the elements still buffered before the error, so a truncated file would lose
 * up to a chunk of good records. Here every token is handled as it is produced, so all elements
 * completed before a syntax error are returned, and the failing element's index is exact.
 * Only one element is held in memory at a time (memory does not grow with the file).
 */
export class JsonArrayStreamParser {
  private readonly parser: ParserInternals;
  private state: 'start' | 'array' | 'after' = 'start';
  private element: Assembler | null = null;
  private nextIndex = 0;
  private out: RawElement[] = [];
  failure: ArrayParseFailure | null = null;

  constructor() {
    this.parser = new Parser({ streamValues: false }) as unknown as ParserInternals;
    this.parser.push = (token: Token) => {
      if (!this.failure) this.onToken(token);
      return true;
    };
  }

  /** Feeds decoded text; returns the elements completed by it. Stops at the first failure. */
  write(text: string): RawElement[] {
    if (!this.failure && text.length > 0) {
      this.parser._transform(text, 'utf8', (err) => {
        if (err && !this.failure) this.fail(err.message, false);
      });
    }
    return this.drain();
  }

  /** Signals end of input; reports truncation when the array was not closed. */
  end(): RawElement[] {
    if (!this.failure) {
      this.parser._flush((err) => {
        if (err && !this.failure) this.fail(err.message, true);
      });
    }
    if (!this.failure && this.state !== 'after') {
      this.failure = {
        kind: 'truncated',
        index: this.nextIndex,
        message: this.state === 'start' ? 'file is empty (expected a JSON array)' : 'file ends before the closing ]',
      };
    }
    return this.drain();
  }

  private drain(): RawElement[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private fail(message: string, atEnd: boolean): void {
    // An error raised only when the input ends means the text stopped inside a value (a cut
    // string or key makes stream-json say "cannot parse input" too): the file is truncated.
    const truncated = atEnd;
    const where = this.state === 'after' ? ' (after the closing ])' : '';
    this.failure = { kind: truncated ? 'truncated' : 'syntax', index: this.nextIndex, message: message + where };
  }

  private onToken(token: Token): void {
    if (this.state === 'array') {
      if (this.element) {
        this.element.consume(token);
        if (this.element.done) {
          this.emit(this.element.current);
          this.element = null;
        }
        return;
      }
      switch (token.name) {
        case 'endArray':
          this.state = 'after';
          return;
        case 'startObject':
        case 'startArray':
          this.element = new Assembler();
          this.element.consume(token);
          return;
        case 'stringValue':
          this.emit(token.value);
          return;
        case 'numberValue':
          this.emit(Number(token.value));
          return;
        case 'nullValue':
          this.emit(null);
          return;
        case 'trueValue':
          this.emit(true);
          return;
        case 'falseValue':
          this.emit(false);
          return;
        default:
          return;
      }
    }
    if (this.state === 'start') {
      if (token.name === 'startArray') {
        this.state = 'array';
        return;
      }
      const found = token.name === 'startObject' ? 'an object' : `a ${token.name.replace(/Value$/, '')} value`;
      this.failure = { kind: 'not-array', index: 0, message: `top level is ${found}, expected a JSON array of documents` };
    }
  }

  private emit(value: unknown): void {
    this.out.push({ index: this.nextIndex++, value });
  }
}
