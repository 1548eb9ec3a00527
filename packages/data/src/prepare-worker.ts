/**
 * A `prepare` worker thread: rebuilds the tokenizer and chunker from plain options, then either
 * turns batches of documents into chunks (returned as flat typed arrays, transferred, not copied)
 * or prepares a whole file into its own shards (prepare-file.ts, the function prepare runs on its
 * own thread). Started by prepare-pool.ts; the prepare thread alone writes the manifest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CorpusError } from './corpus/types.js';
import { prepareFile } from './prepare-file.js';
import type { ChunkResult, ChunkTask, ChunkWorkerConfig, FileTask, WorkerMessage } from './prepare-messages.js';
import { AutoTokenizer } from './tokenizers/auto.js';
import { DocumentChunker } from './text/pipeline.js';
import { JiebaSegmenter } from './text/segment.js';
import { WordTokenizer } from './text/word-tokenizer.js';

/** How often a file task reports its counts. */
const PROGRESS_MS = 250;

function chunkBatch(chunker: DocumentChunker, task: ChunkTask): { result: ChunkResult; transfer: ArrayBuffer[] } {
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
  return {
    result: { kind: 'chunk', id: task.id, chunksPerDoc, chunkLengths, ids, wordStarts },
    transfer: [chunksPerDoc.buffer, chunkLengths.buffer, ids.buffer, wordStarts.buffer],
  };
}

async function runFile(chunker: DocumentChunker, task: FileTask, post: (m: WorkerMessage) => void): Promise<void> {
  const pending = { bytes: 0, documents: 0, chunks: 0, tokens: 0 };
  let last = Date.now();
  const flush = () => {
    post({ kind: 'progress', id: task.id, ...pending });
    pending.bytes = pending.documents = pending.chunks = pending.tokens = 0;
    last = Date.now();
  };
  const outcome = await prepareFile(task.job, { chunker }, {
    onIssue: (issue) => post({ kind: 'issue', id: task.id, issue }),
    onBytes: (n) => {
      pending.bytes += n;
    },
    onDocuments: (documents, chunks, tokens) => {
      pending.documents += documents;
      pending.chunks += chunks;
      pending.tokens += tokens;
      if (Date.now() - last >= PROGRESS_MS) flush();
    },
  });
  flush();
  post({ kind: 'file', id: task.id, outcome });
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
  const post = (m: WorkerMessage) => port.postMessage(m);
  const fail = (id: number, error: unknown) =>
    post({ kind: 'error', id, error: error instanceof Error ? error.message : String(error), ...(error instanceof CorpusError ? { issue: error.issue } : {}) });
  // File tasks run one at a time; chunk tasks never wait behind one (prepare sends one kind per run).
  port.on('message', (task: ChunkTask | FileTask) => {
    if (task.kind === 'file') {
      runFile(chunker, task, post).catch((error) => fail(task.id, error));
      return;
    }
    try {
      const { result, transfer } = chunkBatch(chunker, task);
      port.postMessage(result, transfer);
    } catch (error) {
      fail(task.id, error);
    }
  });
}

void main();
