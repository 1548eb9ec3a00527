/**
 * SentenceEncoder: a model and its tokenizer as one object for applications. `encode(texts)`
 * returns one Float32Array per text. Where it runs: a worker thread (Node `fromPretrained`, the
 * default, so a server's event loop stays free), or the calling thread (`fromFiles`, and
 * `{ worker: false }`), yielding to the event loop between batches.
 */
import { EncoderCore, type BatchSettings, type EncoderInfo, type Pooling } from './core.js';
import { readModelFiles, type ModelFiles } from './files.js';
import { WorkerClient, type OpenSource } from './protocol.js';

export interface SentenceEncodeOptions {
  /** Texts per forward pass (default 32). Progress is reported per batch. */
  batchSize?: number;
  /** 'cls' or 'mean' (default: what the folder says, see EncoderInfo.pooling). */
  pooling?: Pooling;
  /** L2-normalise each vector (default: what the folder says; false without a Normalize module). */
  normalize?: boolean;
  /** Truncate texts to this many tokens (default and upper bound: the position table). */
  maxLength?: number;
  /** After each batch: texts encoded so far of `total`. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** How an encoder computes batches: here, or in a worker behind a WorkerClient. */
interface Engine {
  readonly runsIn: 'worker' | 'this thread';
  encodeBatch(texts: string[], settings: BatchSettings): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface PretrainedOptions {
  /** Node: run the model in a worker thread (default true). Browsers: run in the calling thread. */
  worker?: boolean;
}

/** How `fromPretrained(location)` opens a model where this entry point runs (Node folder or browser URL). */
export interface Platform {
  openPretrained(location: string, options: PretrainedOptions): Promise<{ engine: Engine; info: EncoderInfo }>;
}

let platform: Platform | undefined;

/** Set by the package's entry points (`index` for Node, `browser`); not for applications. */
export function setPlatform(value: Platform): void {
  platform = value;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** An EncoderCore on the calling thread. */
export function localEngine(core: EncoderCore): Engine {
  return {
    runsIn: 'this thread',
    encodeBatch: async (texts, settings) => core.encodeBatch(texts, settings),
    close: async () => {},
  };
}

/** An EncoderCore in a worker, opened from `source`. */
export async function workerEngine(client: WorkerClient, source: OpenSource): Promise<{ engine: Engine; info: EncoderInfo }> {
  let info: EncoderInfo;
  try {
    info = await client.open(source);
  } catch (error) {
    await client.terminate();
    throw error;
  }
  return {
    info,
    engine: { runsIn: 'worker', encodeBatch: (texts, settings) => client.encodeBatch(texts, settings), close: () => client.terminate() },
  };
}

export class SentenceEncoder {
  private closed = false;

  private constructor(
    private readonly engine: Engine,
    /** What the folder says: dimension, max length, default pooling and normalization. */
    readonly info: EncoderInfo,
  ) {}

  /** D, the width of every vector. */
  get dimension(): number {
    return this.info.dimension;
  }

  /** 'worker' or 'this thread'. */
  get runsIn(): 'worker' | 'this thread' {
    return this.engine.runsIn;
  }

  /**
   * A model folder: in Node a directory (read in a worker thread unless `{ worker: false }`), in a
   * browser a URL whose files are fetched (config.json, model.safetensors, the tokenizer files,
   * 1_Pooling/config.json and modules.json when present).
   */
  static async fromPretrained(location: string, options: PretrainedOptions = {}): Promise<SentenceEncoder> {
    if (!platform) throw new Error('SentenceEncoder.fromPretrained: import SentenceEncoder from @retro/sentence (its Node or browser entry), not from an internal module');
    const { engine, info } = await platform.openPretrained(location, options);
    return new SentenceEncoder(engine, info);
  }

  /** Files held in memory (ModelFiles: name -> bytes/text/File), run on the calling thread. Works everywhere. */
  static async fromFiles(files: ModelFiles, options: { source?: string } = {}): Promise<SentenceEncoder> {
    const core = EncoderCore.fromFolder(await readModelFiles(files, options.source));
    return new SentenceEncoder(localEngine(core), core.info);
  }

  /** For entry points that built the engine themselves (workers). */
  static fromEngine(engine: Engine, info: EncoderInfo): SentenceEncoder {
    return new SentenceEncoder(engine, info);
  }

  /**
   * texts [N] -> N vectors of `dimension` floats, in input order. Batches go one at a time, so
   * `onProgress` sees each and the event loop runs between them.
   */
  async encode(texts: readonly string[], options: SentenceEncodeOptions = {}): Promise<Float32Array[]> {
    if (this.closed) throw new Error('SentenceEncoder.encode: the encoder is closed');
    if (!Array.isArray(texts)) throw new Error(`SentenceEncoder.encode: expected an array of strings, found ${texts === null ? 'null' : typeof texts}`);
    texts.forEach((text, i) => {
      if (typeof text !== 'string') throw new Error(`SentenceEncoder.encode: texts[${i}] is ${text === null ? 'null' : typeof text}, expected a string`);
    });
    const settings = this.settings(options);
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`SentenceEncoder.encode: batchSize must be a positive integer, found ${batchSize}`);
    const D = this.info.dimension;
    const rows: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      const vectors = await this.engine.encodeBatch(batch, settings);
      if (vectors.length !== batch.length * D) throw new Error(`SentenceEncoder.encode: a batch of ${batch.length} texts gave ${vectors.length} values, expected ${batch.length * D}`);
      for (let i = 0; i < batch.length; i++) rows.push(vectors.subarray(i * D, (i + 1) * D));
      options.onProgress?.({ done: rows.length, total: texts.length });
      // On the calling thread, let timers and I/O run between batches.
      if (this.engine.runsIn === 'this thread') await yieldToEventLoop();
    }
    return rows;
  }

  /** Stops the worker (if any); later encode calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.close();
  }

  private settings(options: SentenceEncodeOptions): BatchSettings {
    const pooling = options.pooling ?? this.info.pooling;
    if (pooling !== 'cls' && pooling !== 'mean') throw new Error(`SentenceEncoder.encode: pooling must be 'cls' or 'mean', found ${JSON.stringify(pooling)}`);
    const maxLength = options.maxLength ?? this.info.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > this.info.maxLength) {
      throw new Error(`SentenceEncoder.encode: maxLength must be an integer in 2..${this.info.maxLength} (the position table), found ${maxLength}`);
    }
    return { pooling, normalize: options.normalize ?? this.info.normalize, maxLength };
  }
}

export type { Engine };
