/**
 * The records of a line-per-record file read whole (JSONL, or plain text with one document a line):
 * the one way retro splits such a text, so every reader agrees on line numbers, line endings, a
 * leading byte-order mark and blank lines. (Readers that stream a file chunk by chunk keep their own
 * carry-over of a partial line.)
 */

/** One non-blank line of the text. */
export interface RecordLine {
  /** 1-based line number in the file (blank lines counted), for errors naming file:line. */
  line: number;
  /** The line without its ending (LF or CRLF). */
  text: string;
  /** True when no line ending follows: the file's last line, cut short if the file was truncated. */
  last: boolean;
}

/** The non-blank lines of `text`, LF or CRLF endings, a leading UTF-8 byte-order mark dropped. */
export function recordLines(text: string): RecordLine[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  const out: RecordLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    out.push({ line: i + 1, text: line, last: i === lines.length - 1 });
  }
  return out;
}
