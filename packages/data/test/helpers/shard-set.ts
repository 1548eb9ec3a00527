/**
 * A small shard folder for tests: the chunks written by ShardWriter (uint16, `p<N>.rshard`) and a
 * manifest whose tokenizer says vocabSize 100 with specials 0..4 ([CLS] 2, [SEP] 3, [PAD] 0,
 * [MASK] 4), so tests only vary what they are about.
 */
import { ShardWriter, writeManifest, type ShardInfo, type ShardManifest } from '../../src/shards/index.js';

export interface ShardSet {
  manifest: ShardManifest;
  shards: ShardInfo[];
}

/** Writes `chunks` ([N][L] ids) into `dir` (which must exist), `maxTokensPerShard` tokens a shard. */
export function writeShardSet(dir: string, chunks: readonly (readonly number[])[], maxTokensPerShard: number): ShardSet {
  const w = new ShardWriter({ dir, idType: 'uint16', maxTokensPerShard, name: (p) => `p${p}.rshard` });
  for (const ids of chunks) w.add([...ids], ids.map(() => 1));
  const shards = w.close();
  const tokens = chunks.reduce((sum, ids) => sum + ids.length, 0);
  const manifest = {
    format: 'retro-shards',
    version: 1,
    createdAt: '',
    updatedAt: '',
    tokenizer: { hash: 'h', files: [], vocabSize: 100, clsTokenId: 2, sepTokenId: 3, padTokenId: 0, maskTokenId: 4, specialIds: [0, 1, 2, 3, 4] },
    config: { hash: 'c', maxSeqLength: 8, idType: 'uint16' },
    totals: {} as ShardManifest['totals'],
    sources: [{ path: '/x', size: 1, mtimeMs: 1, format: 'text', records: chunks.length, documents: chunks.length, chunks: chunks.length, tokens, skippedRecords: 0, emptyRecords: 0, shards: shards.map((s) => s.file) }],
    shards: shards.map((s) => ({ ...s, source: '/x' })),
  } satisfies ShardManifest;
  writeManifest(dir, manifest);
  return { manifest, shards };
}
