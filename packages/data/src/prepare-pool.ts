/**
 * Worker threads for `prepare`: documents go out in batches, chunks come back, and the caller
 * takes the results strictly in submission order, so shards are byte-identical for any worker
 * count. At most `maxInFlight` batches are out at once (memory stays bounded: a batch is about
 * BATCH_CHARS characters of text plus its chunks).
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChunkResult, ChunkTask, ChunkWorkerConfig } from './prepare-worker.js';

/** Characters of document text per batch sent to a worker. */
export const BATCH_CHARS = 1 << 18;

/** Where the worker's code is: next to this module, in whichever form this module runs (src via tsx, ESM or CJS dist). */
function workerEntry(): { url: URL; source?: string } {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source (tests, tsx): the worker needs the same TypeScript loader.
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
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

export class ChunkPool {
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
      const worker = source ? new Worker(source, { eval: true, workerData: config }) : new Worker(url, { workerData: config });
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
            worker.on('message', (r: ChunkResult) => pool.settle(r));
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

  /** Batches submitted and not yet taken. */
  get inFlight(): number {
    return this.order.length;
  }

  /** Sends one batch (round-robin over workers); take() returns results in this order. */
  submit(texts: string[], titles: Array<string | undefined>): void {
    const id = this.nextId++;
    const task: ChunkTask = { id, texts, titles };
    const result = new Promise<ChunkResult>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve, reject });
    });
    // take() awaits it; until then a rejection must not count as unhandled.
    result.catch(() => undefined);
    this.order.push(result);
    this.workers[id % this.workers.length].postMessage(task);
  }

  /** The oldest batch's result (waits for it). */
  async take(): Promise<ChunkResult> {
    const next = this.order.shift();
    if (!next) throw new Error('ChunkPool.take: nothing in flight');
    return next;
  }

  private settle(r: ChunkResult): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.error) p.reject(new Error(`prepare: a worker failed on a batch of documents: ${r.error}`));
    else p.resolve(r);
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
