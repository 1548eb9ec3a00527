/**
 * What the prepare thread and its workers send each other (prepare-pool.ts <-> prepare-worker.ts).
 * Two kinds of work: a batch of documents to chunk (the prepare thread reads and writes), or a
 * whole file to read, chunk and write into its own shards (the worker does everything).
 */
import type { CorpusFormat, CorpusIssue, FileSummary } from './corpus/types.js';
import type { IdType } from './shards/format.js';
import type { ShardInfo } from './shards/writer.js';
import type { ChunkerOptions } from './text/pipeline.js';

/** Everything needed to turn one file into shards, as plain data (it crosses to worker threads). */
export interface FileJob {
  path: string;
  outDir: string;
  /** Shard `part` is named `${shardPrefix}${part as 4 digits}.rshard`; the prefix holds the file's generation. */
  shardPrefix: string;
  idType: IdType;
  maxTokensPerShard?: number;
  format: 'auto' | CorpusFormat;
  onError: 'skip' | 'fail';
}

export interface FileOutcome {
  /** The reader's account of the file (records, skips, sha256, failure). */
  summary: FileSummary;
  shards: ShardInfo[];
  chunks: number;
  tokens: number;
}

/** Sent once at start (workerData). */
export interface ChunkWorkerConfig {
  tokenizerDir: string;
  segmenter: 'jieba' | 'none';
  jiebaHmm: boolean;
  wordCacheSize?: number;
  chunker: ChunkerOptions;
}

/** One batch of documents in, its chunks out (in document order). */
export interface ChunkTask {
  kind: 'chunk';
  id: number;
  texts: string[];
  titles: Array<string | undefined>;
}

/** One whole corpus file: the worker reads it, chunks it and writes its shards. */
export interface FileTask {
  kind: 'file';
  id: number;
  job: FileJob;
}

export interface ChunkResult {
  kind: 'chunk';
  id: number;
  /** Chunks per document. */
  chunksPerDoc: Int32Array;
  /** Tokens per chunk. */
  chunkLengths: Int32Array;
  ids: Int32Array;
  wordStarts: Uint8Array;
}

/** Counts since the last report of a file task (for the progress meter). */
export interface FileProgress {
  kind: 'progress';
  id: number;
  bytes: number;
  documents: number;
  chunks: number;
  tokens: number;
}

export interface FileIssue {
  kind: 'issue';
  id: number;
  issue: CorpusIssue;
}

export interface FileResult {
  kind: 'file';
  id: number;
  outcome: FileOutcome;
}

/** A task that failed; `issue` is set when it failed on a corpus problem (onError 'fail'). */
export interface TaskFailure {
  kind: 'error';
  id: number;
  error: string;
  issue?: CorpusIssue;
}

export type WorkerMessage = ChunkResult | FileProgress | FileIssue | FileResult | TaskFailure;
