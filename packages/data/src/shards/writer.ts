import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import { encodeShard, MAX_SHARD_TOKENS, type IdType } from './format.js';

/** A shard file as recorded in the manifest. */
export interface ShardInfo {
  /** File name, relative to the shard directory. */
  file: string;
  chunks: number;
  tokens: number;
  bytes: number;
  sha256: string;
  idType: IdType;
}

export interface ShardWriterOptions {
  dir: string;
  idType: IdType;
  /** Tokens per shard before it is closed. Default 4M (about 12 MB with uint16 ids). */
  maxTokensPerShard?: number;
  /** File name of the `part`-th shard of this writer. */
  name: (part: number) => string;
}

/**
 * Collects chunks and writes them into shards of bounded size (memory stays at one shard).
 * Each file is written atomically (temp + rename).
 */
export class ShardWriter {
  readonly shards: ShardInfo[] = [];
  private ids: Uint16Array | Int32Array;
  private starts: Uint8Array;
  private offsets: number[] = [0];
  private tokens = 0;
  private readonly maxTokens: number;
  private readonly maxId: number;

  constructor(private readonly options: ShardWriterOptions) {
    this.maxTokens = options.maxTokensPerShard ?? 4 * 1024 * 1024;
    if (!Number.isInteger(this.maxTokens) || this.maxTokens < 1 || this.maxTokens > MAX_SHARD_TOKENS) {
      throw new Error(`ShardWriter: maxTokensPerShard must be an integer in [1, ${MAX_SHARD_TOKENS}], found ${this.maxTokens}`);
    }
    this.maxId = options.idType === 'uint16' ? 0xffff : 0x7fffffff;
    this.ids = this.alloc(Math.min(this.maxTokens, 1 << 16));
    this.starts = new Uint8Array(this.ids.length);
  }

  private alloc(n: number): Uint16Array | Int32Array {
    return this.options.idType === 'uint16' ? new Uint16Array(n) : new Int32Array(n);
  }

  /** Adds one chunk (ids and wordStarts of shape [n]). A chunk never spans two shards. */
  add(ids: ArrayLike<number>, wordStarts: ArrayLike<number>): void {
    const n = ids.length;
    if (wordStarts.length !== n) throw new Error(`ShardWriter.add: ids [${n}] and wordStarts [${wordStarts.length}] differ`);
    if (n > this.maxTokens) throw new Error(`ShardWriter.add: chunk of ${n} tokens exceeds maxTokensPerShard ${this.maxTokens}`);
    if (this.tokens + n > this.maxTokens) this.flush();
    if (this.tokens + n > this.ids.length) this.grow(this.tokens + n);
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (!(id >= 0 && id <= this.maxId)) {
        throw new Error(`ShardWriter.add: id ${id} does not fit ${this.options.idType}`);
      }
      this.ids[this.tokens + i] = id;
      this.starts[this.tokens + i] = wordStarts[i];
    }
    this.tokens += n;
    this.offsets.push(this.tokens);
  }

  private grow(min: number): void {
    const size = Math.min(this.maxTokens, Math.max(min, this.ids.length * 2));
    const ids = this.alloc(size);
    ids.set(this.ids.subarray(0, this.tokens));
    const starts = new Uint8Array(size);
    starts.set(this.starts.subarray(0, this.tokens));
    this.ids = ids;
    this.starts = starts;
  }

  /** Writes the pending chunks (if any) as one shard. */
  flush(): void {
    const numChunks = this.offsets.length - 1;
    if (numChunks === 0) return;
    const file = this.options.name(this.shards.length);
    const bytes = encodeShard({
      idType: this.options.idType,
      numChunks,
      numTokens: this.tokens,
      offsets: Uint32Array.from(this.offsets),
      ids: this.ids.subarray(0, this.tokens),
      wordStarts: this.starts.subarray(0, this.tokens),
    });
    writeFileAtomic(join(this.options.dir, file), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.shards.push({ file, chunks: numChunks, tokens: this.tokens, bytes: bytes.byteLength, sha256, idType: this.options.idType });
    this.offsets = [0];
    this.tokens = 0;
  }

  /** Flushes and returns all shards written. */
  close(): ShardInfo[] {
    this.flush();
    return this.shards;
  }
}
