import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeShard, shardByteLength, SHARD_MAGIC, SHARD_VERSION, type IdType, type ShardData } from './format.js';
import { readManifest, type ShardManifest } from './manifest.js';

export interface OpenShardsOptions {
  /**
   * Check every shard's sha256 (and every token id) against the manifest before `open` returns,
   * and each shard's sha256 again whenever it is loaded. Default true: a flipped byte must not
   * train silently. Off, `open` still checks that every shard exists with the right size and header.
   */
  verify?: boolean;
  /** Where the up-front check reports progress when it takes more than a second (default stderr; false: silent). */
  progress?: boolean | { write(text: string): unknown };
  /** Fail when the set holds no chunk (a training run would otherwise end at step 0 "successfully"). */
  requireChunks?: boolean;
}

/**
 * Read access to a directory of shards: chunk counts without loading, and whole shards on demand.
 * Holds no shard data itself (the loader decides what stays in memory).
 */
export class ShardDataset {
  /** Chunks per shard, in manifest order. */
  readonly chunkCounts: number[];
  readonly numChunks: number;
  readonly numTokens: number;
  /** Identifies the shard set (names, counts and hashes); a loader state only restores onto the same one. */
  readonly fingerprint: string;

  constructor(
    readonly dir: string,
    readonly manifest: ShardManifest,
    private readonly verify = false,
  ) {
    this.chunkCounts = manifest.shards.map((s) => s.chunks);
    this.numChunks = this.chunkCounts.reduce((a, b) => a + b, 0);
    this.numTokens = manifest.shards.reduce((a, s) => a + s.tokens, 0);
    const h = createHash('sha256');
    for (const s of manifest.shards) h.update(`${s.file}\0${s.chunks}\0${s.tokens}\0${s.sha256}\n`);
    this.fingerprint = h.digest('hex').slice(0, 16);
  }

  /**
   * Opens `dir/manifest.json` and checks every shard it lists before returning, so a missing,
   * truncated or corrupt shard fails now and not after minutes of training (see OpenShardsOptions).
   */
  static open(dir: string, options: OpenShardsOptions = {}): ShardDataset {
    const m = readManifest(dir);
    if (!m) throw new Error(`ShardDataset.open: ${dir} has no manifest.json (run prepare first)`);
    const dataset = new ShardDataset(dir, m, options.verify ?? true);
    if (options.requireChunks && dataset.numChunks === 0) {
      const failed = m.sources.filter((s) => s.failed).map((s) => `${s.path} (${s.failed!.kind})`);
      throw new Error(
        `ShardDataset.open: ${join(dir, 'manifest.json')} lists 0 chunks from ${m.sources.length} source file(s)` +
          `${failed.length ? `; unreadable: ${failed.slice(0, 3).join(', ')}` : ''}: nothing to train on; check what retro prepare reported`,
      );
    }
    dataset.checkAll(options.progress ?? true);
    return dataset;
  }

  get numShards(): number {
    return this.chunkCounts.length;
  }

  /** Ids must lie in [0, vocabSize) of the tokenizer the manifest records. */
  get vocabSize(): number {
    return this.manifest.tokenizer.vocabSize;
  }

  /** Loads shard `i` (manifest order) and checks it against the manifest. */
  loadShard(i: number): ShardData {
    const info = this.manifest.shards[i];
    if (!info) throw new Error(`ShardDataset.loadShard: shard ${i} out of range [0, ${this.numShards})`);
    const path = join(this.dir, info.file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new Error(`ShardDataset.loadShard: cannot read shard ${i} '${path}' listed in manifest.json: ${(error as Error).message}`);
    }
    if (this.verify) {
      if (info.sha256 === undefined) {
        throw new Error(`ShardDataset: manifest.json lists no sha256 for shard ${i} '${path}'; rerun retro prepare, or open without verification (--no-verify-shards)`);
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== info.sha256) throw new Error(`ShardDataset: ${path}: sha256 ${sha}, manifest says ${info.sha256} (the shard changed or is corrupt; rerun retro prepare)`);
    }
    const data = decodeShard(bytes, path);
    if (data.numChunks !== info.chunks || data.numTokens !== info.tokens) {
      throw new Error(
        `ShardDataset.loadShard: ${path}: ${data.numChunks} chunks / ${data.numTokens} tokens, manifest says ${info.chunks} / ${info.tokens}`,
      );
    }
    checkIds(data, this.vocabSize, path);
    return data;
  }

  /** Every shard present with the manifest's size and header; with verify, hashes and ids too. */
  private checkAll(progress: OpenShardsOptions['progress']): void {
    const stream = progress === false ? null : progress === true || progress === undefined ? process.stderr : progress;
    const t0 = Date.now();
    let lastReport = t0;
    let bytesDone = 0;
    let reported = false;
    const idType = this.manifest.config.idType as IdType | undefined;
    for (let i = 0; i < this.numShards; i++) {
      const info = this.manifest.shards[i];
      const path = join(this.dir, info.file);
      const type = info.idType ?? idType ?? (this.vocabSize <= 65536 ? 'uint16' : 'int32');
      const expected = shardByteLength(type, info.chunks, info.tokens);
      let size: number;
      try {
        const stats = statSync(path);
        if (!stats.isFile()) throw new Error('not a regular file');
        size = stats.size;
      } catch (error) {
        throw new Error(`ShardDataset.open: shard ${i + 1} of ${this.numShards} '${path}' listed in manifest.json is missing or unreadable (${(error as Error).message}); rerun retro prepare`);
      }
      if (size !== expected) {
        throw new Error(
          `ShardDataset.open: ${path}: ${size} bytes, expected ${expected} for ${info.chunks} chunks / ${info.tokens} ${type} tokens (manifest.json); the shard is truncated or corrupt, rerun retro prepare`,
        );
      }
      if (this.verify) {
        this.loadShard(i);
      } else {
        checkHeader(path, type, info.chunks, info.tokens);
      }
      bytesDone += size;
      const now = Date.now();
      if (stream && this.verify && now - lastReport >= 1000) {
        lastReport = now;
        reported = true;
        stream.write(`verifying shards: ${i + 1}/${this.numShards} (${(bytesDone / 1e6).toFixed(0)} MB, ${((now - t0) / 1000).toFixed(0)} s; --no-verify-shards skips this)\n`);
      }
    }
    if (reported && stream) stream.write(`verifying shards: all ${this.numShards} match manifest.json (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}

/** Reads the 32-byte header only: magic, version, id width and counts must match the manifest. */
function checkHeader(path: string, type: IdType, chunks: number, tokens: number): void {
  const header = Buffer.alloc(32);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 32, 0);
  } finally {
    closeSync(fd);
  }
  const magic = header.toString('latin1', 0, 8);
  const problem =
    magic !== SHARD_MAGIC
      ? `bad magic ${JSON.stringify(magic)}, expected ${SHARD_MAGIC}`
      : header.readUInt32LE(8) !== SHARD_VERSION
        ? `version ${header.readUInt32LE(8)}, expected ${SHARD_VERSION}`
        : header.readUInt32LE(12) !== (type === 'uint16' ? 2 : 4)
          ? `${header.readUInt32LE(12)} bytes per id, manifest says ${type}`
          : header.readUInt32LE(16) !== chunks || header.readUInt32LE(20) !== tokens
            ? `header says ${header.readUInt32LE(16)} chunks / ${header.readUInt32LE(20)} tokens, manifest says ${chunks} / ${tokens}`
            : undefined;
  if (problem) throw new Error(`ShardDataset.open: ${path}: ${problem} (corrupt shard; rerun retro prepare)`);
}

/** Fails naming the shard, chunk and token offset of the first id outside [0, vocabSize). */
function checkIds(data: ShardData, vocabSize: number, path: string): void {
  const { ids, offsets } = data;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id >= 0 && id < vocabSize) continue;
    let chunk = 0;
    while (offsets[chunk + 1] <= t) chunk++;
    throw new Error(
      `ShardDataset: ${path}: token id ${id} at token offset ${t} (chunk ${chunk}, position ${t - offsets[chunk]}) is outside the vocabulary [0, ${vocabSize}) recorded in manifest.json (tokenizer.vocabSize)`,
    );
  }
}
