import { deriveSeed, Generator, permutation } from '@retro/random';
import type { ShardData } from '../shards/format.js';
import type { ShardDataset } from '../shards/dataset.js';
import { IGNORE_INDEX, makeMaskPlan, type MaskPlan } from '../masking/whole-word-mask.js';
import { collateChunks, type CollatedBatch, type ChunkView } from './collate.js';
import { maskBatch, type EncoderMasking } from './mask-batch.js';

/** What the loader needs from a shard set (ShardDataset implements it). */
export interface ShardSource {
  readonly numShards: number;
  /** Chunks per shard, shape [numShards]. */
  readonly chunkCounts: readonly number[];
  /** Changes whenever the shard set changes. */
  readonly fingerprint: string;
  loadShard(i: number): ShardData;
}

export interface LoaderOptions {
  batchSize: number;
  /** Seed of the shuffle and of the encoder masking. */
  seed: number;
  /** Shuffle shard order and chunk order each epoch. Default true. */
  shuffle?: boolean;
  /**
   * Shards mixed together: chunks are shuffled within groups of this many consecutive shards of
   * the epoch's shard order. More mixing costs memory (the group is loaded at once). Default 4.
   */
  shardsPerWindow?: number;
  /** Drop an epoch's last partial batch. Default false. */
  dropLast?: boolean;
  /** Epochs to serve; `Infinity` loops forever. Default 1. */
  epochs?: number;
  padTokenId: number;
  padTo?: 'longest' | number;
  padToMultipleOf?: number;
  /**
   * Encoder whole-word masking; omitted: no masking fields. Its generator is derived from
   * (seed, epoch, batch index), so a restored loader masks exactly as the original would.
   */
  encoderMasking?: {
    ratio: number;
    maskTokenId: number;
    vocabSize: number;
    specialIds: readonly number[];
    maskProb?: number;
    randomProb?: number;
    decision?: 'token' | 'word';
  };
}

/** A padded batch plus where it came from; arrays [B, L] as in CollatedBatch. */
export interface Batch extends CollatedBatch, Partial<EncoderMasking> {
  epoch: number;
  /** 0-based batch number within the epoch. */
  batchInEpoch: number;
  /** Global chunk numbers (shard-major order of the manifest), shape [B]. */
  chunkIds: Float64Array;
}

/** Serialisable loader position (plain JSON). */
export interface LoaderState {
  version: 1;
  fingerprint: string;
  seed: number;
  shuffle: boolean;
  shardsPerWindow: number;
  batchSize: number;
  dropLast: boolean;
  epoch: number;
  /** Window of the epoch's shard order being read. */
  window: number;
  /** Chunks of that window already served. */
  offset: number;
  batchInEpoch: number;
  batchesServed: number;
}

// Stream tags so shard order, chunk order and masking draw from unrelated generators.
const TAG_SHARDS = 0x5348;
const TAG_CHUNKS = 0x4348;
const TAG_MASK = 0x4d41;

interface Window {
  epoch: number;
  index: number;
  shards: number[];
  data: ShardData[];
  /** Global chunk number of the first chunk of each shard. */
  shardBase: number[];
  /** Cumulative chunk counts of `shards`, shape [shards + 1]. */
  starts: number[];
  order: Int32Array;
}

/**
 * Streams batches from shards in a seeded, per-epoch shuffled order, and can save and restore its
 * position: `restore(state())` in a new loader yields exactly the batches the old one would have.
 *
 * Order of an epoch: shards are permuted (seed, epoch); consecutive groups of `shardsPerWindow`
 * shards are loaded together and their chunks permuted (seed, epoch, window). Only one window is
 * in memory. Every chunk is served exactly once per epoch.
 */
export class BatchLoader implements Iterable<Batch> {
  private readonly shuffle: boolean;
  private readonly shardsPerWindow: number;
  private readonly dropLast: boolean;
  private readonly epochs: number;
  private readonly shardBase: number[];
  private readonly maskPlan: MaskPlan | null;
  private epoch = 0;
  private windowIndex = 0;
  private offset = 0;
  private batchInEpoch = 0;
  private batchesServed = 0;
  private window: Window | null = null;
  private shardOrderCache: { epoch: number; order: Int32Array } | null = null;

  constructor(
    readonly source: ShardSource,
    readonly options: LoaderOptions,
  ) {
    const who = 'BatchLoader';
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`${who}: batchSize must be a positive integer, found ${options.batchSize}`);
    }
    if (!Number.isFinite(options.seed)) throw new Error(`${who}: seed must be a finite number, found ${options.seed}`);
    this.shuffle = options.shuffle ?? true;
    this.shardsPerWindow = options.shardsPerWindow ?? 4;
    if (!Number.isInteger(this.shardsPerWindow) || this.shardsPerWindow < 1) {
      throw new Error(`${who}: shardsPerWindow must be a positive integer, found ${this.shardsPerWindow}`);
    }
    this.dropLast = options.dropLast ?? false;
    this.epochs = options.epochs ?? 1;
    if (!(this.epochs >= 0)) throw new Error(`${who}: epochs must be >= 0, found ${this.epochs}`);
    this.shardBase = [];
    let base = 0;
    for (const c of source.chunkCounts) {
      this.shardBase.push(base);
      base += c;
    }
    this.maskPlan = options.encoderMasking ? makeMaskPlan(options.encoderMasking) : null;
  }

  /**
   * A loader over a prepared shard directory, with padding and special ids taken from its
   * manifest. `encoderMaskRatio` (default 0.3, RetroMAE's encoder rate) enables encoder
   * whole-word masking; pass false for none.
   */
  static fromDataset(
    dataset: ShardDataset,
    options: Omit<LoaderOptions, 'padTokenId' | 'encoderMasking'> & { encoderMaskRatio?: number | false },
  ): BatchLoader {
    const t = dataset.manifest.tokenizer;
    const { encoderMaskRatio = 0.3, ...rest } = options;
    return new BatchLoader(dataset, {
      ...rest,
      padTokenId: t.padTokenId,
      encoderMasking:
        encoderMaskRatio === false
          ? undefined
          : { ratio: encoderMaskRatio, maskTokenId: t.maskTokenId, vocabSize: t.vocabSize, specialIds: t.specialIds },
    });
  }

  /** Total chunks per epoch. */
  get chunksPerEpoch(): number {
    return this.shardBase.length ? this.shardBase[this.shardBase.length - 1] + this.source.chunkCounts[this.shardBase.length - 1] : 0;
  }

  /** Batches per epoch (with the dropLast rule). */
  get batchesPerEpoch(): number {
    const n = this.chunksPerEpoch;
    return this.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  get numWindows(): number {
    return Math.ceil(this.source.numShards / this.shardsPerWindow);
  }

  /** Position after the last batch served. */
  state(): LoaderState {
    return {
      version: 1,
      fingerprint: this.source.fingerprint,
      seed: this.options.seed,
      shuffle: this.shuffle,
      shardsPerWindow: this.shardsPerWindow,
      batchSize: this.options.batchSize,
      dropLast: this.dropLast,
      epoch: this.epoch,
      window: this.windowIndex,
      offset: this.offset,
      batchInEpoch: this.batchInEpoch,
      batchesServed: this.batchesServed,
    };
  }

  /** Continues from a saved position. The shard set and order settings must be the same. */
  restore(state: LoaderState): void {
    const who = 'BatchLoader.restore';
    if (!state || state.version !== 1) throw new Error(`${who}: unsupported state ${JSON.stringify(state)?.slice(0, 80)}`);
    const mine = this.state();
    for (const k of ['fingerprint', 'seed', 'shuffle', 'shardsPerWindow', 'batchSize', 'dropLast'] as const) {
      if (state[k] !== mine[k]) {
        throw new Error(`${who}: state was saved with ${k} = ${JSON.stringify(state[k])}, this loader has ${JSON.stringify(mine[k])}`);
      }
    }
    for (const k of ['epoch', 'window', 'offset', 'batchInEpoch', 'batchesServed'] as const) {
      if (!Number.isSafeInteger(state[k]) || state[k] < 0) throw new Error(`${who}: field '${k}' is ${JSON.stringify(state[k])}, expected an integer >= 0`);
    }
    if (state.window < 0 || state.window > this.numWindows || state.offset < 0) {
      throw new Error(`${who}: position window ${state.window} / offset ${state.offset} is outside this shard set`);
    }
    this.epoch = state.epoch;
    this.windowIndex = state.window;
    this.offset = state.offset;
    this.batchInEpoch = state.batchInEpoch;
    this.batchesServed = state.batchesServed;
    this.window = null;
  }

  [Symbol.iterator](): Iterator<Batch> {
    return {
      next: () => {
        const b = this.next();
        return b ? { value: b, done: false } : { value: undefined, done: true };
      },
    };
  }

  /** The next batch, or null when all epochs are served. */
  next(): Batch | null {
    const B = this.options.batchSize;
    // Without a single batch per epoch, looping over (possibly infinite) epochs would never return.
    if (this.batchesPerEpoch === 0) return null;
    for (;;) {
      if (this.epoch >= this.epochs) return null;
      const views: ChunkView[] = [];
      const ids: number[] = [];
      while (views.length < B) {
        const c = this.nextChunkInEpoch();
        if (!c) break;
        views.push(c.view);
        ids.push(c.id);
      }
      const epochEnded = views.length < B;
      if (views.length === B || (views.length > 0 && !this.dropLast)) {
        const batch = this.makeBatch(views, ids);
        this.batchInEpoch++;
        this.batchesServed++;
        if (epochEnded) this.startNextEpoch();
        return batch;
      }
      this.startNextEpoch();
    }
  }

  private startNextEpoch(): void {
    this.epoch++;
    this.windowIndex = 0;
    this.offset = 0;
    this.batchInEpoch = 0;
    this.window = null;
  }

  private makeBatch(views: ChunkView[], ids: number[]): Batch {
    const collated = collateChunks(views, {
      padTokenId: this.options.padTokenId,
      padTo: this.options.padTo,
      padToMultipleOf: this.options.padToMultipleOf,
    });
    const batch: Batch = {
      ...collated,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      chunkIds: Float64Array.from(ids),
    };
    if (this.maskPlan) {
      const rng = new Generator(deriveSeed(this.options.seed, TAG_MASK, this.epoch, this.batchInEpoch));
      const masking = maskBatch(collated, rng, this.maskPlan);
      checkMaskedShare(collated, masking.encoderLabels, this.maskPlan.ratio, this.epoch, this.batchInEpoch);
      Object.assign(batch, masking);
    }
    return batch;
  }

  private shardOrder(epoch: number): Int32Array {
    if (this.shardOrderCache?.epoch !== epoch) {
      const n = this.source.numShards;
      const order = this.shuffle
        ? permutation(n, new Generator(deriveSeed(this.options.seed, TAG_SHARDS, epoch)))
        : Int32Array.from({ length: n }, (_, i) => i);
      this.shardOrderCache = { epoch, order };
    }
    return this.shardOrderCache.order;
  }

  private loadWindow(): Window | null {
    if (this.window && this.window.epoch === this.epoch && this.window.index === this.windowIndex) return this.window;
    this.window = null; // release the previous window before loading the next
    const order = this.shardOrder(this.epoch);
    const from = this.windowIndex * this.shardsPerWindow;
    if (from >= order.length) return null;
    const shards = Array.from(order.subarray(from, Math.min(order.length, from + this.shardsPerWindow)));
    const data = shards.map((s) => this.source.loadShard(s));
    const starts = [0];
    for (const d of data) starts.push(starts[starts.length - 1] + d.numChunks);
    const total = starts[starts.length - 1];
    const perm = this.shuffle
      ? permutation(total, new Generator(deriveSeed(this.options.seed, TAG_CHUNKS, this.epoch, this.windowIndex)))
      : Int32Array.from({ length: total }, (_, i) => i);
    this.window = {
      epoch: this.epoch,
      index: this.windowIndex,
      shards,
      data,
      shardBase: shards.map((s) => this.shardBase[s]),
      starts,
      order: perm,
    };
    return this.window;
  }

  private nextChunkInEpoch(): { view: ChunkView; id: number } | null {
    for (;;) {
      const w = this.loadWindow();
      if (!w) return null;
      if (this.offset >= w.order.length) {
        this.windowIndex++;
        this.offset = 0;
        continue;
      }
      const k = w.order[this.offset++];
      let s = 0;
      while (w.starts[s + 1] <= k) s++;
      const local = k - w.starts[s];
      const d = w.data[s];
      const a = d.offsets[local];
      const b = d.offsets[local + 1];
      return { view: { ids: d.ids.subarray(a, b), wordStarts: d.wordStarts.subarray(a, b) }, id: w.shardBase[s] + local };
    }
  }
}

/** Below this many content tokens a batch's masked share is too noisy to judge. */
const MASK_CHECK_MIN_TOKENS = 512;

/**
 * Whole-word masking passes over a word longer than the budget left, so words of absurd length
 * (shards whose word starts are missing) silently mask almost nothing. A batch whose masked share
 * is under a quarter of the ratio fails instead, naming the words' mean length.
 */
function checkMaskedShare(batch: CollatedBatch, labels: Int32Array, ratio: number, epoch: number, batchInEpoch: number): void {
  const [B, L] = batch.shape;
  let content = 0;
  let starts = 0;
  let selected = 0;
  for (let b = 0; b < B; b++) {
    // [CLS] and [SEP] are not content; the chunker writes them as the first and last token
    for (let i = b * L + 1; i < b * L + batch.lengths[b] - 1; i++) {
      content++;
      starts += batch.wordStarts[i];
    }
  }
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) selected++;
  if (content < MASK_CHECK_MIN_TOKENS || selected >= (ratio * content) / 4) return;
  throw new Error(
    `BatchLoader: whole-word masking selected ${selected} of ${content} content tokens (${((100 * selected) / content).toFixed(1)}%) in batch ${batchInEpoch} of epoch ${epoch}, ` +
      `expected about ${(100 * ratio).toFixed(0)}%: its words average ${(content / Math.max(1, starts)).toFixed(1)} tokens, too long to fit the budget. ` +
      `Shards prepared with a byte-level (RoBERTa) tokenizer before word starts were aligned to the whole-text tokenization (their manifest config lacks byteLevelWordStarts) have none: prepare them again.`,
  );
}
