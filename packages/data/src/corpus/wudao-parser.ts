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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** JSON's four whitespace characters (RFC 8259 `ws`). */
function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** What may come next between the array's elements. */
type Expect = 'value-or-end' | 'value' | 'comma-or-end';

/**
 * Incremental reader of one top-level JSON array, element by element.
 *
 * Why a scanner of its own: WuDao files are one array of millions of small objects. The scanner
 * only finds where each element ends (it jumps from quote to quote through strings, where all the
 * text is, and counts brackets elsewhere), then `JSON.parse` reads the element, which is V8's
 * fastest JSON path. A generic streaming JSON tokenizer spent about half of the main thread's time
 * in `prepare` on the same file.
 *
 * Guarantees, for any split of the text across `write` calls:
 * - every element completed before a syntax error is returned, and the failing element's index is
 *   exact (the error is found when that element is parsed, or between elements);
 * - only the element being read is held (memory does not grow with the file);
 * - a text that stops inside the array is 'truncated', a top level that is not an array is
 *   'not-array', anything but whitespace after the closing `]` is 'syntax'.
 */
export class JsonArrayStreamParser {
  /** Text not yet consumed: starts at the current element (or at the next unread character). */
  private text = '';
  /** Where scanning resumes in `text`. */
  private at = 0;
  private state: 'start' | 'array' | 'after' = 'start';
  private expect: Expect = 'value-or-end';
  /** Start of the element being scanned in `text`, or -1 between elements. */
  private elementStart = -1;
  /** The brackets open in the current element, innermost last. */
  private readonly open: number[] = [];
  private inString = false;
  private nextIndex = 0;
  private out: RawElement[] = [];
  failure: ArrayParseFailure | null = null;

  /** Feeds decoded text; returns the elements completed by it. Stops at the first failure. */
  write(text: string): RawElement[] {
    if (!this.failure && text.length > 0) {
      this.text += text;
      this.scan();
      this.compact();
    }
    return this.drain();
  }

  /**
   * Signals end of input; reports truncation when the array was not closed. Nothing is left to
   * scan: every write scans to its end, and an element still open (a bare number included) means
   * the array was never closed.
   */
  end(): RawElement[] {
    if (!this.failure && this.state !== 'after') {
      this.failure = {
        kind: 'truncated',
        index: this.nextIndex,
        message: this.state === 'start' ? 'file is empty (expected a JSON array)' : 'file ends before the closing ]',
      };
    }
    this.text = '';
    this.at = 0;
    return this.drain();
  }

  private drain(): RawElement[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Drops consumed text, so that only the element being read is held between writes. */
  private compact(): void {
    const keepFrom = this.elementStart >= 0 ? this.elementStart : this.at;
    if (keepFrom === 0) return;
    this.text = this.text.slice(keepFrom);
    this.at -= keepFrom;
    if (this.elementStart >= 0) this.elementStart = 0;
  }

  private scan(): void {
    const text = this.text;
    const n = text.length;
    let i = this.at;
    while (i < n && !this.failure) {
      if (this.elementStart >= 0) {
        i = this.scanElement(text, i);
        continue;
      }
      const c = text.charCodeAt(i);
      if (isJsonSpace(c)) {
        i++;
        continue;
      }
      if (this.state === 'start') {
        if (c === OPEN_BRACKET) {
          this.state = 'array';
          i++;
          continue;
        }
        this.failure = { kind: 'not-array', index: 0, message: `top level is ${describeStart(c)}, expected a JSON array of documents` };
        break;
      }
      if (this.state === 'after') {
        this.syntax(`unexpected ${quoteChar(c)} (after the closing ])`);
        break;
      }
      // Between elements.
      if (c === CLOSE_BRACKET && this.expect !== 'value') {
        this.state = 'after';
        i++;
      } else if (c === COMMA && this.expect === 'comma-or-end') {
        this.expect = 'value';
        i++;
      } else if (this.expect === 'comma-or-end') {
        this.syntax(`expected , or ] after element ${this.nextIndex - 1}, found ${quoteChar(c)}`);
      } else if (c === CLOSE_BRACKET || c === COMMA) {
        this.syntax(`expected an element, found ${quoteChar(c)}`);
      } else {
        this.elementStart = i;
        this.open.length = 0;
        this.inString = false;
      }
    }
    this.at = i;
  }

  /**
   * Scans the current element from `i`; returns where scanning goes on. An element is complete at
   * its closing bracket, at the closing quote of a bare string, or where a bare number or literal
   * meets a delimiter. A closing bracket that does not match its opening one ends the element
   * at once (JSON.parse then reports it), so a broken record cannot swallow the rest of the file.
   */
  private scanElement(text: string, i: number): number {
    const n = text.length;
    const first = text.charCodeAt(this.elementStart);
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET && first !== QUOTE) {
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c === COMMA || c === CLOSE_BRACKET || isJsonSpace(c)) return this.finish(text, i);
      }
      // A bare number or literal may go on in the next chunk. If the input ends here, the array
      // is unclosed, which end() reports as truncation.
      return i;
    }
    const open = this.open;
    while (i < n) {
      if (this.inString) {
        const close = closingQuote(text, i);
        if (close < 0) return n;
        this.inString = false;
        i = close + 1;
        if (open.length === 0) return this.finish(text, i);
        continue;
      }
      const c = text.charCodeAt(i++);
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) open.push(c);
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        const matches = open.pop() === (c === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET);
        if (!matches || open.length === 0) return this.finish(text, i);
      }
    }
    return i;
  }

  /** Parses `text[elementStart, end)` as the next element. */
  private finish(text: string, end: number): number {
    const source = text.slice(this.elementStart, end);
    this.elementStart = -1;
    this.expect = 'comma-or-end';
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (e) {
      this.syntax((e as Error).message);
      return end;
    }
    this.out.push({ index: this.nextIndex++, value });
    return end;
  }

  private syntax(message: string): void {
    this.failure = { kind: 'syntax', index: this.nextIndex, message };
  }
}

/**
 * Index of the first unescaped quote at or after `from`, or -1 if there is none in `text`. The
 * backslashes before a quote are counted back from it, past `from` if need be (a chunk may end
 * with the backslash); the string's opening quote stops the count.
 */
function closingQuote(text: string, from: number): number {
  let q = text.indexOf('"', from);
  while (q >= 0) {
    let backslashes = 0;
    for (let k = q - 1; k >= 0 && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

function describeStart(c: number): string {
  if (c === OPEN_BRACE) return 'an object';
  if (c === QUOTE) return 'a string value';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number value';
  if (c === 0x74 || c === 0x66) return 'a boolean value';
  if (c === 0x6e) return 'a null value';
  return `${quoteChar(c)}, not JSON`;
}

function quoteChar(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
