export {
  encodeShard,
  decodeShard,
  readShardFile,
  shardByteLength,
  SHARD_MAGIC,
  SHARD_VERSION,
  type ShardData,
  type IdType,
} from './format.js';
export { ShardWriter, type ShardInfo, type ShardWriterOptions } from './writer.js';
export {
  readManifest,
  writeManifest,
  MANIFEST_FILE,
  type ShardManifest,
  type ManifestSource,
  type ManifestShard,
  type ManifestTokenizer,
} from './manifest.js';
export { ShardDataset } from './dataset.js';
