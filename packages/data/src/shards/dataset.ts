import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeShard, type ShardData } from './format.js';
import { readManifest, type ShardManifest } from './manifest.js';

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

  /** Opens `dir/manifest.json`. @param verify check each shard's sha256 when it is loaded. */
  static open(dir: string, options: { verify?: boolean } = {}): ShardDataset {
    const m = readManifest(dir);
    if (!m) throw new Error(`ShardDataset.open: ${dir} has no manifest.json (run prepare first)`);
    return new ShardDataset(dir, m, options.verify ?? false);
  }

  get numShards(): number {
    return this.chunkCounts.length;
  }

  /** Loads shard `i` (manifest order) and checks it against the manifest. */
  loadShard(i: number): ShardData {
    const info = this.manifest.shards[i];
    if (!info) throw new Error(`ShardDataset.loadShard: shard ${i} out of range [0, ${this.numShards})`);
    const path = join(this.dir, info.file);
    const bytes = readFileSync(path);
    if (this.verify) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== info.sha256) throw new Error(`ShardDataset.loadShard: ${path}: sha256 ${sha}, manifest says ${info.sha256}`);
    }
    const data = decodeShard(bytes, path);
    if (data.numChunks !== info.chunks || data.numTokens !== info.tokens) {
      throw new Error(
        `ShardDataset.loadShard: ${path}: ${data.numChunks} chunks / ${data.numTokens} tokens, manifest says ${info.chunks} / ${info.tokens}`,
      );
    }
    return data;
  }
}
