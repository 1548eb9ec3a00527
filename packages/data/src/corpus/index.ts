export { readDocuments, DocumentReader, type ReadOptions } from './read.js';
export { detectFormat } from './detect.js';
export { formatFromHead, formatFromName } from './format-of.js';
export { documentsFromText, type TextCorpus } from './in-memory.js';
export { Utf8EscapeDecoder, describeIllFormed, isWellFormed } from './utf8.js';
export { JsonArrayStreamParser, type RawElement, type ArrayParseFailure } from './wudao-parser.js';
export {
  CorpusError,
  formatIssue,
  type CorpusDocument,
  type CorpusFormat,
  type CorpusIssue,
  type CorpusIssueKind,
  type FileSummary,
  type ReadSummary,
} from './types.js';
