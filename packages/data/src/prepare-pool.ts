/**
 * Worker threads for `prepare`, two ways of sharing the work:
 * - batches: the prepare thread reads, documents go out in batches, chunks come back, and the
 *   caller takes the results strictly in submission order (at most `maxInFlight` batches out at
 *   once, so memory stays bounded);
 * - files: a worker prepares a whole file into its own shards, reporting counts and issues.
 * Shards are byte-identical for any worker count and either way.
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CorpusError } from './corpus/types.js';
import type { BatchChunking, FileHooks, FileJob, FileOutcome } from './prepare-file.js';
import type { ChunkResult, ChunkTask, ChunkWorkerConfig, FileTask, WorkerMessage } from './prepare-messages.js';

/**
 * V8's young generation per worker (the default is sized for throughput, not for many threads).
 * Two workers on 96 MB of WuDao JSON in 2 files, 3 alternating runs each: peak RSS 348-356 MB ->
 * 289-293 MB, time 9.9-10.6 s -> 10.2-11.1 s (+5 %); 16 MB gave 310-320 MB at +2 %.
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/** Where the worker's code is: next to this module, in whichever form this module runs (src via tsx, ESM or CJS dist). */
function workerEntry(): { url: URL; source?: string } {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source (tests, tsx): the worker loads its TypeScript through tsx's API.
    const url = new URL('./prepare-worker.ts', here);
    const source =
      `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(here)})).catch((e) => ` +
      `require('node:worker_threads').parentPort.postMessage({ ready: false, error: String((e && e.stack) || e) }));`;
    return { url, source };
  }
  return { url: new URL(here.endsWith('.cjs') ? './prepare-worker.cjs' : './prepare-worker.js', here) };
}

interface Pending {
  resolve: (r: ChunkResult | FileOutcome) => void;
  reject: (e: Error) => void;
  /** File tasks only. */
  hooks?: FileHooks;
  /** What the task is about, for errors. */
  what: string;
}

export class ChunkPool implements BatchChunking {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly order: Array<Promise<ChunkResult>> = [];
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(readonly maxInFlight: number) {}

  /**
   * Starts `count` workers and waits until each has built its tokenizer; throws when one cannot,
   * or when its tokenizer differs from `expect` (vocab size and special ids), naming the difference.
   */
  static async start(count: number, config: ChunkWorkerConfig, expect: { vocabSize: number; specials: number[] }): Promise<ChunkPool> {
    const pool = new ChunkPool(2 * count);
    const { url, source } = workerEntry();
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const options = { workerData: config, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } };
      const worker = source ? new Worker(source, { eval: true, ...options }) : new Worker(url, options);
      pool.workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', (m: { ready: boolean; error?: string; vocabSize?: number; specials?: number[] }) => {
            if (!m.ready) return reject(new Error(`prepare: a worker could not build the tokenizer from ${config.tokenizerDir}: ${m.error}`));
            if (m.vocabSize !== expect.vocabSize || JSON.stringify(m.specials) !== JSON.stringify(expect.specials)) {
              return reject(
                new Error(
                  `prepare: the tokenizer loaded from tokenizerDir ${config.tokenizerDir} (vocab ${m.vocabSize}, special ids ${m.specials}) ` +
                    `is not the one passed as tokenizer (vocab ${expect.vocabSize}, special ids ${expect.specials}); pass workers: 1 or the matching tokenizerDir`,
                ),
              );
            }
            worker.on('message', (r: WorkerMessage) => pool.receive(r));
            resolve();
          });
          worker.once('error', reject);
        }),
      );
      worker.on('error', (e) => pool.fail(e instanceof Error ? e : new Error(String(e))));
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Batches submitted and not yet taken. */
  get inFlight(): number {
    return this.order.length;
  }

  private track<T extends ChunkResult | FileOutcome>(id: number, what: string, hooks?: FileHooks): Promise<T> {
    const result = new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, hooks, what });
    });
    // The caller awaits it later; until then a rejection must not count as unhandled.
    result.catch(() => undefined);
    return result;
  }

  /** Sends one batch (round-robin over workers); take() returns results in this order. */
  submit(texts: string[], titles: Array<string | undefined>): void {
    const id = this.nextId++;
    const task: ChunkTask = { kind: 'chunk', id, texts, titles };
    this.order.push(this.track<ChunkResult>(id, 'a batch of documents'));
    this.workers[id % this.workers.length].postMessage(task);
  }

  /** The oldest batch's result (waits for it). */
  async take(): Promise<ChunkResult> {
    const next = this.order.shift();
    if (!next) throw new Error('ChunkPool.take: nothing in flight');
    return next;
  }

  /**
   * Worker `worker` prepares the whole file of `job` (one file per worker at a time: the caller
   * schedules). Counts and issues arrive through `hooks` while it runs; a corpus problem under
   * onError 'fail' rejects with the CorpusError the reader threw.
   */
  runFile(worker: number, job: FileJob, hooks: FileHooks): Promise<FileOutcome> {
    const id = this.nextId++;
    const task: FileTask = { kind: 'file', id, job };
    const result = this.track<FileOutcome>(id, job.path, hooks);
    this.workers[worker].postMessage(task);
    return result;
  }

  private receive(m: WorkerMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.kind === 'progress') {
      p.hooks?.onBytes(m.bytes);
      p.hooks?.onDocuments(m.documents, m.chunks, m.tokens);
      return;
    }
    if (m.kind === 'issue') {
      p.hooks?.onIssue(m.issue);
      return;
    }
    this.pending.delete(m.id);
    if (m.kind === 'error') {
      p.reject(m.issue ? new CorpusError(m.issue) : new Error(`prepare: a worker failed on ${p.what}: ${m.error}`));
    } else p.resolve(m.kind === 'file' ? m.outcome : m);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.order.length = 0;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
