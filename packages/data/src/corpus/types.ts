/** Input formats the corpus reader understands. */
export type CorpusFormat = 'wudao' | 'jsonl' | 'text';

/** One document as read from a corpus file (not yet cleaned). */
export interface CorpusDocument {
  /** Body text (`content` in WuDao/JSONL, the whole line for plain text). Never empty. */
  text: string;
  title?: string;
  id?: string | number;
  /** WuDao `dataType` (e.g. 新闻/评论/句子) when present. */
  dataType?: string;
  /** Where it came from: `index` is the 0-based array index (WuDao) or line index (JSONL, text). */
  source: { file: string; index: number };
}

/**
 * What went wrong, by kind:
 * - `io`: the file could not be opened or read;
 * - `syntax`: the JSON text is broken (a WuDao file cannot be read past it; in JSONL only
 *   that line is lost);
 * - `truncated`: the file ends inside a value (WuDao) or its last line is cut (JSONL);
 * - `not-array`: a WuDao file whose top level is not a JSON array;
 * - `schema`: a record with missing/wrongly typed fields;
 * - `invalid-utf8`: a record whose bytes are not valid UTF-8 (or with a lone-surrogate escape);
 * - `encoding`: the whole file is not UTF-8 text (gzip, zip, UTF-16/32, binary); nothing is read.
 */
export type CorpusIssueKind = 'io' | 'syntax' | 'truncated' | 'not-array' | 'schema' | 'invalid-utf8' | 'encoding';

/** One reported problem; `index` is the record (array element or line) it concerns. */
export interface CorpusIssue {
  kind: CorpusIssueKind;
  file: string;
  index: number;
  message: string;
  /** True when the rest of the file could not be read after this problem. */
  fatalToFile: boolean;
}

/** Thrown by the reader with `onError: 'fail'` (and for unusable options). */
export class CorpusError extends Error {
  readonly kind: CorpusIssueKind;
  readonly file: string;
  readonly index: number;
  /** The problem as reported (crosses to other threads as plain data). */
  readonly issue: CorpusIssue;
  constructor(issue: CorpusIssue) {
    super(formatIssue(issue));
    this.issue = issue;
    this.name = 'CorpusError';
    this.kind = issue.kind;
    this.file = issue.file;
    this.index = issue.index;
  }
}

export function formatIssue(issue: CorpusIssue): string {
  return `readDocuments: ${issue.file}: record ${issue.index}: ${issue.kind}: ${issue.message}`;
}

/** Per-file outcome. */
export interface FileSummary {
  file: string;
  format: CorpusFormat;
  /** Bytes read from the file (equals its size unless reading stopped early on `fail`). */
  bytes: number;
  /** Records met: yielded + skipped + empty. Blank lines of JSONL/text files are not records. */
  records: number;
  documents: number;
  /** Malformed records skipped (`schema`, `invalid-utf8`). */
  skipped: number;
  /** Well-formed records whose text was empty or whitespace only (not yielded). */
  empty: number;
  /** Set when the rest of the file could not be read (`io`, `syntax`, `truncated`, `not-array`, `encoding`). */
  failed?: CorpusIssue;
  /** sha256 hex of the file bytes, when `hash: true` and the whole file was read. */
  sha256?: string;
}

/** Totals over all files read so far (final once iteration ends). */
export interface ReadSummary {
  files: number;
  filesFailed: number;
  records: number;
  documents: number;
  skipped: number;
  empty: number;
  bytes: number;
  /** The first `maxIssuesKept` problems (all of them are passed to `onIssue`). */
  issues: CorpusIssue[];
  /** Number of problems reported, including those not kept in `issues`. */
  issueCount: number;
  byFile: FileSummary[];
}
