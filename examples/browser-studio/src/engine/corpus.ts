/**
 * Corpus files -> documents -> training chunks, all in memory: the text is parsed with
 * @retro/data's documentsFromText (WuDao / JSONL / text), tokenized with whole-word starts and
 * packed into [CLS] ... [SEP] chunks by DocumentChunker, and served to BatchLoader as one
 * in-memory shard. Word starts: jieba is Node-only, so in the page a word is a token that is not
 * a `##` continuation (every CJK character is its own word), as `WordTokenizer` does without a segmenter.
 */
import { DocumentChunker, WordTokenizer, documentsFromText, formatIssue, type Chunk, type CorpusDocument, type ShardSource, type AnyTokenizer } from '@retro/data';
import type { ShardData } from '@retro/data';
import type { InputFile } from '../protocol.js';

export interface FileReport {
  name: string;
  format: string;
  documents: number;
  issues: string[];
}

/** Documents of every file; a file that is not UTF-8 text or has no document is reported, not fatal. */
export function readCorpusFiles(files: readonly InputFile[]): { documents: CorpusDocument[]; reports: FileReport[] } {
  const documents: CorpusDocument[] = [];
  const reports: FileReport[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
    } catch {
      reports.push({ name: file.name, format: '?', documents: 0, issues: [`${file.name}: not UTF-8 text; expected a WuDao .json, a .jsonl or a .txt file`] });
      continue;
    }
    const parsed = documentsFromText(text, file.name);
    const issues = parsed.issues.slice(0, 5).map(formatIssue);
    if (parsed.issues.length > 5) issues.push(`... and ${parsed.issues.length - 5} more problems in ${file.name}`);
    if (parsed.documents.length === 0 && parsed.issues.length === 0) issues.push(`${file.name}: no non-empty document found (${parsed.records} records)`);
    reports.push({ name: file.name, format: parsed.format, documents: parsed.documents.length, issues });
    documents.push(...parsed.documents);
  }
  return { documents, reports };
}

/**
 * Chunks of at most `maxLength` tokens (specials included) from every document, in order.
 * `onProgress(done)` is called every `every` documents.
 */
export function tokenizeDocuments(
  documents: readonly CorpusDocument[],
  tokenizer: AnyTokenizer,
  maxLength: number,
  onProgress: (documentsDone: number, chunks: number, tokens: number) => void,
  every = 50,
): Chunk[] {
  const chunker = new DocumentChunker(new WordTokenizer(tokenizer, null), { maxSeqLength: maxLength });
  const chunks: Chunk[] = [];
  let tokens = 0;
  documents.forEach((document, i) => {
    for (const chunk of chunker.chunk(document.text, document.title)) {
      chunks.push(chunk);
      tokens += chunk.ids.length;
    }
    if ((i + 1) % every === 0 || i + 1 === documents.length) onProgress(i + 1, chunks.length, tokens);
  });
  return chunks;
}

/** The chunks as one shard, the form BatchLoader reads (shuffling, masking, resumable order). */
export class MemoryShards implements ShardSource {
  readonly numShards = 1;
  readonly chunkCounts: readonly number[];
  readonly fingerprint: string;
  private readonly shard: ShardData;

  constructor(chunks: readonly Chunk[]) {
    if (chunks.length === 0) throw new Error('the corpus gave no chunks to train on (every document was empty after cleaning)');
    const offsets = new Uint32Array(chunks.length + 1);
    chunks.forEach((chunk, i) => (offsets[i + 1] = offsets[i] + chunk.ids.length));
    const total = offsets[chunks.length];
    const ids = new Int32Array(total);
    const wordStarts = new Uint8Array(total);
    chunks.forEach((chunk, i) => {
      ids.set(chunk.ids, offsets[i]);
      wordStarts.set(chunk.wordStarts, offsets[i]);
    });
    this.shard = { idType: 'int32', numChunks: chunks.length, numTokens: total, offsets, ids, wordStarts };
    this.chunkCounts = [chunks.length];
    this.fingerprint = `memory:${chunks.length}:${total}`;
  }

  loadShard(i: number): ShardData {
    if (i !== 0) throw new Error(`MemoryShards: shard ${i} out of range (1 shard)`);
    return this.shard;
  }
}
