/**
 * One corpus file -> its shards: read the documents, chunk them (here, or on worker threads in
 * batches), write the chunks in document order. prepare() runs it on its own thread for each file,
 * and a prepare worker runs it for a whole file when the workers take files; the shards are the
 * same bytes either way.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readDocuments } from './corpus/read.js';
import type { CorpusIssue } from './corpus/types.js';
import { ShardWriter } from './shards/writer.js';
import type { DocumentChunker } from './text/pipeline.js';
import type { ChunkResult, FileJob, FileOutcome } from './prepare-messages.js';

export type { FileJob, FileOutcome } from './prepare-messages.js';

/** Characters of document text per batch sent to a worker. */
export const BATCH_CHARS = 1 << 18;

export const SHARD_EXT = '.rshard';

/** Where the counts and problems of a file go while it is read. */
export interface FileHooks {
  onIssue: (issue: CorpusIssue) => void;
  onBytes: (n: number) => void;
  onDocuments: (documents: number, chunks: number, tokens: number) => void;
}

/** Chunks batches of documents elsewhere (ChunkPool); results come back in submission order. */
export interface BatchChunking {
  readonly inFlight: number;
  readonly maxInFlight: number;
  submit(texts: string[], titles: Array<string | undefined>): void;
  take(): Promise<ChunkResult>;
}

export type Chunking = { chunker: DocumentChunker } | { batches: BatchChunking };

/** File name of a job's `part`-th shard. */
export function shardName(job: Pick<FileJob, 'shardPrefix'>, part: number): string {
  return `${job.shardPrefix}${String(part).padStart(4, '0')}${SHARD_EXT}`;
}

/**
 * Reads `job.path` and writes its shards. On any error, nothing of this file stays on disk
 * (its earlier shards, under another generation's names, are untouched).
 */
export async function prepareFile(job: FileJob, chunking: Chunking, hooks: FileHooks): Promise<FileOutcome> {
  const writer = new ShardWriter({
    dir: job.outDir,
    idType: job.idType,
    maxTokensPerShard: job.maxTokensPerShard,
    name: (part) => shardName(job, part),
  });
  const reader = readDocuments(job.path, { format: job.format, onError: job.onError, hash: true, onIssue: hooks.onIssue, onBytes: hooks.onBytes });
  let chunks = 0;
  let tokens = 0;
  /** Writes one worker batch's chunks, document by document, as the in-thread loop would. */
  const writeBatch = (r: ChunkResult): void => {
    let c = 0;
    let at = 0;
    for (let d = 0; d < r.chunksPerDoc.length; d++) {
      let docTokens = 0;
      for (let k = 0; k < r.chunksPerDoc[d]; k++, c++) {
        const n = r.chunkLengths[c];
        writer.add(r.ids.subarray(at, at + n), r.wordStarts.subarray(at, at + n));
        at += n;
        docTokens += n;
      }
      chunks += r.chunksPerDoc[d];
      tokens += docTokens;
      hooks.onDocuments(1, r.chunksPerDoc[d], docTokens);
    }
  };
  try {
    if ('batches' in chunking) {
      const pool = chunking.batches;
      let texts: string[] = [];
      let titles: Array<string | undefined> = [];
      let chars = 0;
      const send = async (): Promise<void> => {
        pool.submit(texts, titles);
        texts = [];
        titles = [];
        chars = 0;
        // Bounded memory: wait for the oldest batch before the reader gets ahead of the writer.
        while (pool.inFlight >= pool.maxInFlight) writeBatch(await pool.take());
      };
      for await (const doc of reader) {
        texts.push(doc.text);
        titles.push(doc.title);
        chars += doc.text.length + (doc.title?.length ?? 0);
        if (chars >= BATCH_CHARS) await send();
      }
      if (texts.length) await send();
      while (pool.inFlight > 0) writeBatch(await pool.take());
    } else {
      for await (const doc of reader) {
        const cs = chunking.chunker.chunk(doc.text, doc.title);
        let docTokens = 0;
        for (const c of cs) {
          writer.add(c.ids, c.wordStarts);
          docTokens += c.ids.length;
        }
        chunks += cs.length;
        tokens += docTokens;
        hooks.onDocuments(1, cs.length, docTokens);
      }
    }
    writer.close();
  } catch (e) {
    for (const s of writer.shards) rmSync(join(job.outDir, s.file), { force: true });
    throw e;
  }
  return { summary: reader.summary.byFile[0], shards: writer.shards, chunks, tokens };
}
