/**
 * A `prepare` worker thread: rebuilds the tokenizer and chunker from plain options, then turns
 * batches of documents into chunks (the per-document DocumentChunker.chunk that prepare runs
 * in-process), returned as flat typed arrays (transferred, not copied). Started by
 * prepare-pool.ts; it never writes files, so the main thread alone decides the shard order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AutoTokenizer } from './tokenizers/auto.js';
import { DocumentChunker, type ChunkerOptions } from './text/pipeline.js';
import { JiebaSegmenter } from './text/segment.js';
import { WordTokenizer } from './text/word-tokenizer.js';

/** What prepare-pool.ts sends at start. */
export interface ChunkWorkerConfig {
  tokenizerDir: string;
  segmenter: 'jieba' | 'none';
  jiebaHmm: boolean;
  wordCacheSize?: number;
  chunker: ChunkerOptions;
}

/** One batch of documents in, its chunks out (in document order). */
export interface ChunkTask {
  id: number;
  texts: string[];
  titles: Array<string | undefined>;
}

export interface ChunkResult {
  id: number;
  /** Chunks per document. */
  chunksPerDoc: Int32Array;
  /** Tokens per chunk. */
  chunkLengths: Int32Array;
  ids: Int32Array;
  wordStarts: Uint8Array;
  error?: string;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const config = workerData as ChunkWorkerConfig;
  let chunker: DocumentChunker;
  try {
    const tokenizer = await AutoTokenizer.fromPretrained(config.tokenizerDir);
    const segmenter = config.segmenter === 'none' ? null : new JiebaSegmenter(config.jiebaHmm);
    chunker = new DocumentChunker(new WordTokenizer(tokenizer, segmenter, { cacheSize: config.wordCacheSize }), config.chunker);
    port.postMessage({
      ready: true,
      vocabSize: tokenizer.vocabSize,
      specials: [tokenizer.clsTokenId, tokenizer.sepTokenId, tokenizer.padTokenId, tokenizer.maskTokenId],
    });
  } catch (error) {
    port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', (task: ChunkTask) => {
    try {
      const chunksPerDoc = new Int32Array(task.texts.length);
      const all: Array<{ ids: Int32Array; wordStarts: Uint8Array }> = [];
      let tokens = 0;
      task.texts.forEach((text, d) => {
        const cs = chunker.chunk(text, task.titles[d]);
        chunksPerDoc[d] = cs.length;
        for (const c of cs) {
          all.push(c);
          tokens += c.ids.length;
        }
      });
      const chunkLengths = new Int32Array(all.length);
      const ids = new Int32Array(tokens);
      const wordStarts = new Uint8Array(tokens);
      let at = 0;
      all.forEach((c, i) => {
        chunkLengths[i] = c.ids.length;
        ids.set(c.ids, at);
        wordStarts.set(c.wordStarts, at);
        at += c.ids.length;
      });
      const result: ChunkResult = { id: task.id, chunksPerDoc, chunkLengths, ids, wordStarts };
      port.postMessage(result, [chunksPerDoc.buffer, chunkLengths.buffer, ids.buffer, wordStarts.buffer]);
    } catch (error) {
      port.postMessage({ id: task.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

void main();
